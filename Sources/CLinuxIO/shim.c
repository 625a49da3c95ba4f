int hornbill_clinuxio_placeholder(void) { return 0; }
