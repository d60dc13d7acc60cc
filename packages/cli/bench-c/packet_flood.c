/*
 * The traffic source of `vnic bench virtio-net` RX: run inside the bench's network namespace, it
 * sends one frame over and over out of interface <ifname> (a tap: the frames land in the tap's
 * queue, read by vnic's device or by the C read() loop on the other side) through an AF_PACKET
 * socket with PACKET_QDISC_BYPASS, 64 frames per sendmmsg. It prints "ready" once the socket is
 * bound and then runs until SIGTERM/SIGINT, when it prints {"sent":N,"full":F,"errors":E,
 * "seconds":S,"waited":W}: S seconds since "ready", W of them spent backing off on a full queue
 * (waiting for the reader: the part of its time the load check counts as headroom). With <pps> it
 * sends one frame at a time, paced at that many frames per second (never catching up in a burst:
 * a late wake-up starts the next period from now), for the irq-per-frame row.
 *
 *   packet_flood <ifname> <frame-hex> [pps]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: packet_flood <ifname> <frame-hex> [pps]\n");
    return 2;
  }
  static uint8_t frame[9000];
  size_t len = strlen(argv[2]) / 2;
  if (len > sizeof frame || len < 14) {
    fprintf(stderr, "packet_flood: frame of %zu bytes is outside 14..%zu\n", len, sizeof frame);
    return 2;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned v;
    if (sscanf(argv[2] + 2 * i, "%2x", &v) != 1) {
      fprintf(stderr, "packet_flood: bad frame hex at byte %zu\n", i);
      return 2;
    }
    frame[i] = (uint8_t)v;
  }
  unsigned ifindex = if_nametoindex(argv[1]);
  if (ifindex == 0) {
    fprintf(stderr, "packet_flood: no interface %s in this namespace: %s\n", argv[1], strerror(errno));
    return 1;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    fprintf(stderr, "packet_flood: socket(AF_PACKET): %s\n", strerror(errno));
    return 1;
  }
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) {
    fprintf(stderr, "packet_flood: PACKET_QDISC_BYPASS: %s\n", strerror(errno));
    return 1;
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = (int)ifindex;
  sll.sll_protocol = 0;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    fprintf(stderr, "packet_flood: bind to %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  struct iovec iov = {frame, len};
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  long pps = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
  if (argc == 4 && (pps <= 0 || pps > 10000000)) {
    fprintf(stderr, "packet_flood: pps %s is outside 1..10000000\n", argv[3]);
    return 2;
  }
  long long period_ns = pps > 0 ? 1000000000LL / pps : 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  printf("ready\n");
  fflush(stdout);
  unsigned long long sent = 0, errors = 0, full = 0;
  double t0 = now_s(), waited = 0;
  int last_errno = 0;
  while (!stop) {
    if (period_ns > 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long at = next.tv_sec * 1000000000LL + next.tv_nsec + period_ns;
      long long cur = now.tv_sec * 1000000000LL + now.tv_nsec;
      if (at < cur) at = cur; /* late: no burst to catch up */
      next.tv_sec = at / 1000000000LL;
      next.tv_nsec = at % 1000000000LL;
      if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) continue;
    }
    int n = sendmmsg(fd, msgs, period_ns > 0 ? 1 : BATCH, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS || errno == EAGAIN) {
        /* the tap's queue is full: its reader is the bottleneck, leave it the CPU for a moment */
        full++;
        double w0 = now_s();
        usleep(20);
        waited += now_s() - w0;
        continue;
      }
      errors++;
      if (errno != last_errno) fprintf(stderr, "packet_flood: sendmmsg: %s\n", strerror(errno));
      last_errno = errno;
      if (errors > 1000) break;
      continue;
    }
    sent += (unsigned)n;
  }
  printf("{\"sent\":%llu,\"full\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"waited\":%.6f}\n", sent, full, errors, now_s() - t0, waited);
  fflush(stdout);
  close(fd);
  return 0;
}
