import { token } from '@vnic/core';
import type { EpollLoop } from './EpollLoop.ts';

/**
 * DI token of the one main-thread EpollLoop a container's devices share for the fds they watch
 * (control-queue kicks, vring-error eventfds, vhost-user sockets and listeners).
 */
export const EVENT_LOOP = token<EpollLoop>('vnic.EventLoop');
