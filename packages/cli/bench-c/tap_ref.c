/*
 * The C reference of `vnic bench virtio-net`: the per-packet loop a VMM's tap backend would run,
 * on a tap opened exactly like vnic's in-process backend opens its own (IFF_TAP|IFF_NO_PI|
 * IFF_VNET_HDR|IFF_MULTI_QUEUE, non-blocking, a 12-byte virtio_net_hdr, no offloads).
 *
 *   tap_ref write <tap> <frame-hex> <warmup-s> <seconds>   writev(vnet_hdr, frame) per packet (guest -> tap)
 *   tap_ref read  <tap> -           <warmup-s> <seconds>   read() per packet (tap -> guest)
 *   tap_ref ping  <tap> <frame-hex> <warmup-s> <seconds>   one ICMP echo request in flight: writev it,
 *                                                          block in poll() until the echo reply is read
 *
 * It creates the tap and prints "ready <tap>" (the bench moves the tap into its namespace and
 * brings it up). Each line on stdin then starts one window: it runs for warmup + seconds and
 * prints one JSON line about the `seconds` after the warm-up:
 *   {"packets":N,"bytes":B,"seconds":S,"errors":E,"all":A}   (A: frames of warm-up + window)
 * (ping: {"samples":N,"p50":us,"p99":us,"lost":L,"seconds":S}: round trips of the window, their
 * 50th and 99th percentile (nearest rank) in microseconds, requests without a reply within 1 s.)
 * The bench alternates these windows with vnic's. When stdin closes it closes the tap and exits.
 * Compiled by the bench at run time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "tap_ref: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int open_tap(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  int hdr = 12;
  if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) die("TUNSETVNETHDRSZ");
  if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) die("TUNSETOFFLOAD");
  printf("ready %s\n", ifr.ifr_name);
  fflush(stdout);
  return fd;
}

/* Waits for the line that starts the next window; false when stdin closed. */
static int next_window(void) {
  fflush(stdout);
  char line[64];
  return fgets(line, sizeof line, stdin) != NULL;
}

static size_t parse_hex(const char *hex, uint8_t *out, size_t max) {
  size_t n = strlen(hex) / 2;
  if (n > max) n = max;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      fprintf(stderr, "tap_ref: bad frame hex at byte %zu\n", i);
      exit(2);
    }
    out[i] = (uint8_t)v;
  }
  return n;
}

static void write_window(int fd, struct iovec *iov, size_t len, double warmup, double seconds) {
  uint64_t packets = 0, errors = 0, warm = 0;
  double t0 = now(), t1 = t0, end = t0 + warmup;
  int counting = 0;
  for (;;) {
    for (int i = 0; i < 256; i++) {
      if (writev(fd, iov, 2) < 0) errors++;
      else packets++;
    }
    t1 = now();
    if (t1 < end) continue;
    if (counting) break;
    counting = 1;
    warm = packets;
    packets = errors = 0;
    t0 = t1;
    end = t0 + seconds;
  }
  printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"errors\":%llu,\"all\":%llu}\n", (unsigned long long)packets,
         (unsigned long long)(packets * len), t1 - t0, (unsigned long long)errors, (unsigned long long)(warm + packets));
}

static int do_write(const char *tap, const char *hex, double warmup, double seconds) {
  static uint8_t frame[65536];
  size_t len = parse_hex(hex, frame, sizeof frame);
  uint8_t hdr[12] = {0};
  int fd = open_tap(tap);
  struct iovec iov[2] = {{hdr, sizeof hdr}, {frame, len}};
  while (next_window()) write_window(fd, iov, len, warmup, seconds);
  close(fd);
  return 0;
}

static void read_window(int fd, double warmup, double seconds) {
  static uint8_t buf[65562 + 1];
  uint64_t packets = 0, bytes = 0, errors = 0, warm = 0;
  double t0 = now(), start = t0 + warmup, end = start + seconds;
  int counting = 0;
  double t = t0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) errors++;
      struct pollfd p = {fd, POLLIN, 0};
      poll(&p, 1, 10);
    } else if (counting) {
      packets++;
      bytes += n > 12 ? (uint64_t)(n - 12) : 0;
    } else {
      warm++;
    }
    if ((packets & 255) == 0 || n < 0) {
      t = now();
      if (!counting && t >= start) {
        counting = 1;
        packets = bytes = 0;
        start = t;
        end = start + seconds;
      } else if (counting && t >= end) {
        break;
      }
    }
  }
  printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"errors\":%llu,\"all\":%llu}\n", (unsigned long long)packets,
         (unsigned long long)bytes, t - start, (unsigned long long)errors, (unsigned long long)(warm + packets));
}

/* True for an IPv4 ICMP echo reply (what the namespace's kernel answers the request with). */
static int is_echo_reply(const uint8_t *f, ssize_t n) {
  if (n < 12 + 14 + 20 + 8) return 0;
  f += 12;
  return f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == 1 && f[14 + ((f[14] & 0xf) * 4)] == 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile q (0..1] of n sorted values. */
static double percentile(const double *sorted, size_t n, double q) {
  double x = q * (double)n - 1e-9; /* ceil(q * n), robust to 0.99 * 100 = 99.00000000000001 */
  size_t rank = (size_t)x;
  if ((double)rank < x) rank++;
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static void ping_window(int fd, struct iovec *iov, double warmup, double seconds) {
  static double samples[4 * 1024 * 1024];
  static uint8_t buf[65562 + 1];
  size_t n = 0;
  uint64_t lost = 0;
  double t0 = now(), start = t0 + warmup, end = start + seconds, t = t0;
  int counting = 0;
  while (t < end) {
    double sent = now();
    if (writev(fd, iov, 2) < 0) die("writev (echo request)");
    int got = 0;
    while (!got) {
      struct pollfd p = {fd, POLLIN, 0};
      int r = poll(&p, 1, 1000);
      if (r == 0) break; /* no reply within 1 s */
      if (r < 0 && errno != EINTR) die("poll");
      ssize_t len = read(fd, buf, sizeof buf);
      if (len < 0 && errno != EAGAIN && errno != EINTR) die("read");
      if (len > 0 && is_echo_reply(buf, len)) got = 1;
    }
    t = now();
    if (!counting && t >= start) {
      counting = 1;
      start = t;
      end = start + seconds;
      continue;
    }
    if (!counting) continue;
    if (!got) lost++;
    else if (n < sizeof samples / sizeof samples[0]) samples[n++] = (t - sent) * 1e6;
  }
  qsort(samples, n, sizeof samples[0], cmp_double);
  double p50 = n > 0 ? percentile(samples, n, 0.5) : 0, p99 = n > 0 ? percentile(samples, n, 0.99) : 0;
  printf("{\"samples\":%zu,\"p50\":%.3f,\"p99\":%.3f,\"lost\":%llu,\"seconds\":%.6f}\n", n, p50, p99, (unsigned long long)lost, t - start);
}

static int do_ping(const char *tap, const char *hex, double warmup, double seconds) {
  static uint8_t frame[65536];
  size_t len = parse_hex(hex, frame, sizeof frame);
  uint8_t hdr[12] = {0};
  int fd = open_tap(tap);
  struct iovec iov[2] = {{hdr, sizeof hdr}, {frame, len}};
  while (next_window()) ping_window(fd, iov, warmup, seconds);
  close(fd);
  return 0;
}

static int do_read(const char *tap, double warmup, double seconds) {
  int fd = open_tap(tap);
  while (next_window()) read_window(fd, warmup, seconds);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "write") == 0) return do_write(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
  if (argc == 6 && strcmp(argv[1], "read") == 0) return do_read(argv[2], atof(argv[4]), atof(argv[5]));
  if (argc == 6 && strcmp(argv[1], "ping") == 0) return do_ping(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
  fprintf(stderr, "usage: tap_ref write|ping <tap> <frame-hex> <warmup-s> <seconds> | tap_ref read <tap> - <warmup-s> <seconds>\n");
  return 2;
}
