// linux/timerfd.h and linux/time.h: the values timerfd_create(2) takes (TFD_* share the O_* values).
import { O_CLOEXEC, O_NONBLOCK } from './fcntl.ts';

/** CLOCK_MONOTONIC (linux/time.h). */
export const CLOCK_MONOTONIC = 1;
/** TFD_CLOEXEC. */
export const TFD_CLOEXEC = O_CLOEXEC;
/** TFD_NONBLOCK. */
export const TFD_NONBLOCK = O_NONBLOCK;
