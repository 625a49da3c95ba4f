#ifndef HORNBILL_CLINUXIO_H
#define HORNBILL_CLINUXIO_H
int hornbill_clinuxio_placeholder(void);
#endif
