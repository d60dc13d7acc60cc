/*
 * The C reference of `vnic bench virtio-net`: the per-packet loop a VMM's tap backend would run,
 * on a tap opened exactly like vnic's in-process backend opens its own (IFF_TAP|IFF_NO_PI|
 * IFF_VNET_HDR|IFF_MULTI_QUEUE, non-blocking, a 12-byte virtio_net_hdr, no offloads).
 *
 *   tap_ref write <tap> <frame-hex> <warmup-s> <seconds>   writev(vnet_hdr, frame) per packet (guest -> tap)
 *   tap_ref read  <tap> -           <warmup-s> <seconds>   read() per packet (tap -> guest)
 *
 * It creates the tap, prints "ready <tap>" and waits for a line on stdin (the bench moves the tap
 * into its namespace and brings it up meanwhile), then runs for warmup + seconds and prints one
 * JSON line about the `seconds` after the warm-up:
 *   {"packets":N,"bytes":B,"seconds":S,"errors":E}
 * It then keeps the tap (and its counters) until stdin closes. Compiled by the bench at run time.
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
  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) {
    fprintf(stderr, "tap_ref: stdin closed before the start line\n");
    exit(1);
  }
  return fd;
}

/* Keeps the tap until stdin closes, so that the bench can read its counters. */
static int linger(int fd) {
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
  }
  close(fd);
  return 0;
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

static int do_write(const char *tap, const char *hex, double warmup, double seconds) {
  static uint8_t frame[65536];
  size_t len = parse_hex(hex, frame, sizeof frame);
  uint8_t hdr[12] = {0};
  int fd = open_tap(tap);
  struct iovec iov[2] = {{hdr, sizeof hdr}, {frame, len}};
  uint64_t packets = 0, errors = 0;
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
    packets = errors = 0;
    t0 = t1;
    end = t0 + seconds;
  }
  printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"errors\":%llu}\n", (unsigned long long)packets,
         (unsigned long long)(packets * len), t1 - t0, (unsigned long long)errors);
  return linger(fd);
}

static int do_read(const char *tap, double warmup, double seconds) {
  static uint8_t buf[65562 + 1];
  int fd = open_tap(tap);
  uint64_t packets = 0, bytes = 0, errors = 0;
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
  printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"errors\":%llu}\n", (unsigned long long)packets,
         (unsigned long long)bytes, t - start, (unsigned long long)errors);
  return linger(fd);
}

int main(int argc, char **argv) {
  if (argc == 6 && strcmp(argv[1], "write") == 0) return do_write(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
  if (argc == 6 && strcmp(argv[1], "read") == 0) return do_read(argv[2], atof(argv[4]), atof(argv[5]));
  fprintf(stderr, "usage: tap_ref write <tap> <frame-hex> <warmup-s> <seconds> | tap_ref read <tap> - <warmup-s> <seconds>\n");
  return 2;
}
