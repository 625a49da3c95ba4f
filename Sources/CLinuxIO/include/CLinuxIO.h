// The one C seam of Hornbill: io_uring through raw system calls, and the few ioctls and open
// flags Swift cannot spell. Logic stays in Swift; these helpers only touch the kernel's structures.
#ifndef HORNBILL_CLINUXIO_H
#define HORNBILL_CLINUXIO_H

#include <stdint.h>
#include <stddef.h>
#include <sys/uio.h>

/// A mapped io_uring instance.
typedef struct hb_uring {
    int fd;
    unsigned flags;
    unsigned sq_entries;
    unsigned cq_entries;
    unsigned *sq_head;
    unsigned *sq_tail;
    unsigned *sq_mask;
    unsigned *sq_array;
    unsigned *cq_head;
    unsigned *cq_tail;
    unsigned *cq_mask;
    void *sqes;
    void *cqes;
    void *sq_ring;
    size_t sq_ring_size;
    void *cq_ring;
    size_t cq_ring_size;
    size_t sqes_size;
    unsigned local_tail;  // SQEs prepared but not yet published
    unsigned published;   // SQEs published but not yet handed to the kernel
} hb_uring;

/// Sets up a ring of `entries` submission entries, owned by the calling thread (only it may submit
/// and wait). Returns 0 or -errno.
int hb_uring_init(hb_uring *ring, unsigned entries);
void hb_uring_destroy(hb_uring *ring);

/// Opcodes and flags, re-exported for Swift.
enum {
    HB_OP_NOP = 0,
    HB_OP_READV = 1,
    HB_OP_WRITEV = 2,
    HB_OP_FSYNC = 3,
    HB_OP_FALLOCATE = 17,
    HB_OP_READ = 22,
    HB_OP_WRITE = 23,
};

/// Prepares a read/write-style SQE; returns 0, or -EBUSY when the submission queue is full.
int hb_uring_prep_rw(hb_uring *ring, uint8_t opcode, int fd, uint64_t addr, uint32_t len, uint64_t offset,
                     int rw_flags, uint64_t user_data);
/// Prepares an fdatasync (datasync != 0) or fsync SQE.
int hb_uring_prep_fsync(hb_uring *ring, int fd, int datasync, uint64_t user_data);
/// Prepares an fallocate SQE.
int hb_uring_prep_fallocate(hb_uring *ring, int fd, int mode, uint64_t offset, uint64_t length, uint64_t user_data);
/// Prepares a no-op SQE (completes with 0).
int hb_uring_prep_nop(hb_uring *ring, uint64_t user_data);

/// Number of SQEs prepared and not yet submitted.
unsigned hb_uring_pending(const hb_uring *ring);
/// Publishes prepared SQEs and enters the kernel. With `get_events` (implied by `wait_nr` > 0) the
/// kernel also posts completions whose work it deferred to this thread, and waits for `wait_nr`
/// of them. Returns the number submitted or -errno (EINTR is retried).
int hb_uring_submit_and_wait(hb_uring *ring, unsigned wait_nr, int get_events);
/// Takes one completion if there is one: returns 1 and fills `user_data` and `result`, else 0.
int hb_uring_reap(hb_uring *ring, uint64_t *user_data, int32_t *result);

/// Flags and requests Swift's Glibc overlay does not export.
int hb_o_direct(void);
int hb_rwf_dsync(void);
int hb_falloc_punch_hole(void);
int hb_falloc_zero_range(void);
int hb_falloc_keep_size(void);
/// Size in bytes of a block device, or -errno.
int64_t hb_block_device_size(int fd);
/// Logical sector size of a block device, or -errno.
int hb_block_device_sector_size(int fd);
/// BLKZEROOUT: zeroes `length` bytes of a block device at `offset`; returns 0 or -errno.
int hb_block_device_zeroout(int fd, uint64_t offset, uint64_t length);
/// BLKDISCARD: discards a byte range of a block device; returns 0 or -errno. Discarded blocks need
/// not read back as zeroes, so devices use fallocate or BLKZEROOUT where zeroes are promised.
int hb_block_device_discard(int fd, uint64_t offset, uint64_t length);
/// The direct-I/O alignment the kernel reports for an open file (statx STATX_DIOALIGN, Linux 6.1):
/// of memory addresses and of file offsets and lengths. Returns 0, or -errno (-EOPNOTSUPP when the
/// kernel or file system does not say).
int hb_direct_io_alignment(int fd, uint32_t *memory_alignment, uint32_t *offset_alignment);
/// fallocate(2); returns 0 or -errno.
int hb_fallocate(int fd, int mode, int64_t offset, int64_t length);
/// eventfd(0, EFD_CLOEXEC), or -errno.
int hb_eventfd(void);
/// Binds `clone_fd` (a new open of /dev/fuse) to the FUSE connection of `session_fd`
/// (FUSE_DEV_IOC_CLONE): 0 or -errno.
int hb_fuse_clone(int clone_fd, int session_fd);
/// Names the calling thread (Linux keeps the first 15 bytes). Returns 0 or an errno value.
int hb_set_thread_name(const char *name);

/// posix_spawn file action closing every descriptor from `from` up (glibc's
/// posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not export).
/// `actions` points at a posix_spawn_file_actions_t. Returns 0 or an errno value.
int hb_spawn_actions_add_close_from(void *actions, int from);

#endif
