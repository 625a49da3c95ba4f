#define _GNU_SOURCE
#include "CLinuxIO.h"

#include <errno.h>
#include <spawn.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/stat.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_setup(unsigned entries, struct io_uring_params *params) {
    return (int)syscall(__NR_io_uring_setup, entries, params);
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

int hb_uring_init(hb_uring *ring, unsigned entries) {
    memset(ring, 0, sizeof(*ring));
    ring->fd = -1;
    struct io_uring_params params;
    // Completions are processed when the owning thread waits (no interrupting IPIs), as fio does;
    // older kernels refuse the flags and get a plain ring.
    static const unsigned flag_sets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        0,
    };
    int fd = -1;
    for (unsigned i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        memset(&params, 0, sizeof(params));
        params.flags = flag_sets[i];
        fd = sys_setup(entries, &params);
        if (fd >= 0 || errno != EINVAL) break;
    }
    if (fd < 0) return -errno;
    ring->flags = params.flags;
    ring->fd = fd;
    ring->sq_entries = params.sq_entries;
    ring->cq_entries = params.cq_entries;
    ring->sq_ring_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    ring->cq_ring_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    ring->sq_ring = mmap(NULL, ring->sq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                         IORING_OFF_SQ_RING);
    if (ring->sq_ring == MAP_FAILED) goto fail;
    ring->cq_ring = mmap(NULL, ring->cq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                         IORING_OFF_CQ_RING);
    if (ring->cq_ring == MAP_FAILED) goto fail;
    ring->sqes_size = params.sq_entries * sizeof(struct io_uring_sqe);
    ring->sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                      IORING_OFF_SQES);
    if (ring->sqes == MAP_FAILED) goto fail;
    char *sq = ring->sq_ring;
    char *cq = ring->cq_ring;
    ring->sq_head = (unsigned *)(sq + params.sq_off.head);
    ring->sq_tail = (unsigned *)(sq + params.sq_off.tail);
    ring->sq_mask = (unsigned *)(sq + params.sq_off.ring_mask);
    ring->sq_array = (unsigned *)(sq + params.sq_off.array);
    ring->cq_head = (unsigned *)(cq + params.cq_off.head);
    ring->cq_tail = (unsigned *)(cq + params.cq_off.tail);
    ring->cq_mask = (unsigned *)(cq + params.cq_off.ring_mask);
    ring->cqes = cq + params.cq_off.cqes;
    ring->local_tail = *ring->sq_tail;
    ring->published = 0;
    return 0;
fail:;
    int error = errno;
    hb_uring_destroy(ring);
    return -error;
}

void hb_uring_destroy(hb_uring *ring) {
    if (ring->sqes && ring->sqes != MAP_FAILED) munmap(ring->sqes, ring->sqes_size);
    if (ring->cq_ring && ring->cq_ring != MAP_FAILED) munmap(ring->cq_ring, ring->cq_ring_size);
    if (ring->sq_ring && ring->sq_ring != MAP_FAILED) munmap(ring->sq_ring, ring->sq_ring_size);
    if (ring->fd >= 0) close(ring->fd);
    memset(ring, 0, sizeof(*ring));
    ring->fd = -1;
}

static struct io_uring_sqe *next_sqe(hb_uring *ring) {
    unsigned head = __atomic_load_n(ring->sq_head, __ATOMIC_ACQUIRE);
    if (ring->local_tail - head >= ring->sq_entries) return NULL;
    unsigned index = ring->local_tail & *ring->sq_mask;
    struct io_uring_sqe *sqe = (struct io_uring_sqe *)ring->sqes + index;
    memset(sqe, 0, sizeof(*sqe));
    ring->sq_array[index] = index;
    ring->local_tail++;
    return sqe;
}

int hb_uring_prep_rw(hb_uring *ring, uint8_t opcode, int fd, uint64_t addr, uint32_t len, uint64_t offset,
                     int rw_flags, uint64_t user_data) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = opcode;
    sqe->fd = fd;
    sqe->addr = addr;
    sqe->len = len;
    sqe->off = offset;
    sqe->rw_flags = rw_flags;
    sqe->user_data = user_data;
    return 0;
}

int hb_uring_prep_fsync(hb_uring *ring, int fd, int datasync, uint64_t user_data) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_FSYNC;
    sqe->fd = fd;
    sqe->fsync_flags = datasync ? IORING_FSYNC_DATASYNC : 0;
    sqe->user_data = user_data;
    return 0;
}

int hb_uring_prep_fallocate(hb_uring *ring, int fd, int mode, uint64_t offset, uint64_t length, uint64_t user_data) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_FALLOCATE;
    sqe->fd = fd;
    sqe->off = offset;
    sqe->addr = length;
    sqe->len = (uint32_t)mode;
    sqe->user_data = user_data;
    return 0;
}

int hb_uring_prep_nop(hb_uring *ring, uint64_t user_data) {
    struct io_uring_sqe *sqe = next_sqe(ring);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_NOP;
    sqe->user_data = user_data;
    return 0;
}

unsigned hb_uring_pending(const hb_uring *ring) {
    return ring->local_tail - *ring->sq_tail + ring->published;
}

int hb_uring_submit_and_wait(hb_uring *ring, unsigned wait_nr, int get_events) {
    unsigned fresh = ring->local_tail - *ring->sq_tail;
    if (fresh) {
        __atomic_store_n(ring->sq_tail, ring->local_tail, __ATOMIC_RELEASE);
        ring->published += fresh;
    }
    unsigned to_submit = ring->published;
    unsigned flags = (wait_nr || get_events) ? IORING_ENTER_GETEVENTS : 0;
    if (to_submit == 0 && flags == 0) return 0;
    for (;;) {
        int result = sys_enter(ring->fd, to_submit, wait_nr, flags);
        if (result >= 0) {
            ring->published -= (unsigned)result < ring->published ? (unsigned)result : ring->published;
            return result;
        }
        if (errno == EINTR) continue;
        return -errno;
    }
}

int hb_uring_reap(hb_uring *ring, uint64_t *user_data, int32_t *result) {
    unsigned head = *ring->cq_head;
    unsigned tail = __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE);
    if (head == tail) return 0;
    struct io_uring_cqe *cqe = (struct io_uring_cqe *)ring->cqes + (head & *ring->cq_mask);
    *user_data = cqe->user_data;
    *result = cqe->res;
    __atomic_store_n(ring->cq_head, head + 1, __ATOMIC_RELEASE);
    return 1;
}

int hb_o_direct(void) { return O_DIRECT; }
int hb_rwf_dsync(void) { return RWF_DSYNC; }
int hb_falloc_punch_hole(void) { return FALLOC_FL_PUNCH_HOLE; }
int hb_falloc_zero_range(void) { return FALLOC_FL_ZERO_RANGE; }
int hb_falloc_keep_size(void) { return FALLOC_FL_KEEP_SIZE; }

int64_t hb_block_device_size(int fd) {
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) return -errno;
    return (int64_t)size;
}

int hb_block_device_sector_size(int fd) {
    int size = 0;
    if (ioctl(fd, BLKSSZGET, &size) != 0) return -errno;
    return size;
}

int hb_block_device_zeroout(int fd, uint64_t offset, uint64_t length) {
    uint64_t range[2] = {offset, length};
    return ioctl(fd, BLKZEROOUT, range) == 0 ? 0 : -errno;
}

int hb_block_device_discard(int fd, uint64_t offset, uint64_t length) {
    uint64_t range[2] = {offset, length};
    return ioctl(fd, BLKDISCARD, range) == 0 ? 0 : -errno;
}

int hb_direct_io_alignment(int fd, uint32_t *memory_alignment, uint32_t *offset_alignment) {
    struct statx info;
    memset(&info, 0, sizeof(info));
    if (syscall(__NR_statx, fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &info) != 0) return -errno;
    if (!(info.stx_mask & STATX_DIOALIGN) || info.stx_dio_offset_align == 0) return -EOPNOTSUPP;
    *memory_alignment = info.stx_dio_mem_align;
    *offset_alignment = info.stx_dio_offset_align;
    return 0;
}

int hb_eventfd(void) {
    int fd = eventfd(0, EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int hb_fallocate(int fd, int mode, int64_t offset, int64_t length) {
    return fallocate(fd, mode, offset, length) == 0 ? 0 : -errno;
}

int hb_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    return pthread_setname_np(pthread_self(), truncated);
}

int hb_spawn_actions_add_close_from(void *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, from);
}

int hb_fuse_clone(int clone_fd, int session_fd) {
    /* FUSE_DEV_IOC_CLONE: _IOR(229, 0, uint32_t) */
    uint32_t session = (uint32_t)session_fd;
    return ioctl(clone_fd, _IOR(229, 0, uint32_t), &session) == 0 ? 0 : -errno;
}
