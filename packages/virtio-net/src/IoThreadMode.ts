/**
 * How a NIC's queue pairs get their IO threads: `shared` (the default) spreads them over the
 * IoThreadPool's shared threads, each thread one epoll over the pairs it serves (any number of
 * NICs); `dedicated` gives each pair a thread of its own, for latency-critical NICs.
 */
export type IoThreadMode = 'shared' | 'dedicated';
