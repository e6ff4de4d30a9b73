/*
 * client_raw_bench: the ceiling for dxl's client benchmark (scripts/bench/client.ts) - the
 * least a client can do on the xenstore socket.
 *
 *   client_raw_bench SOCKET seq N    N sequential READs of /bench/key, one write() and one
 *                                    read() per request; prints "<ops/s> <p50 us>"
 *   client_raw_bench SOCKET pipe N   N READs pipelined on one connection: a thread writes
 *                                    them all with one blocking write() while the main
 *                                    thread reads replies in 1 MiB reads; prints "<ops/s> 0"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#include "bench_timing.h"

#define PATH "/bench/key"
#define FRAME (16 + sizeof PATH)


static void frame(uint8_t *out, uint32_t req_id) {
    uint32_t hdr[4] = {2 /* XS_READ */, req_id, 0, sizeof PATH};
    memcpy(out, hdr, 16);
    memcpy(out + 16, PATH, sizeof PATH);
}

/* Consumes whole replies from buf[0..*len), returns how many it consumed. */
static long consume(uint8_t *buf, size_t *len) {
    long replies = 0;
    size_t at = 0;
    while (*len - at >= 16) {
        uint32_t hdr[4];
        memcpy(hdr, buf + at, 16);
        if (hdr[0] == 16) {
            fprintf(stderr, "ERROR reply\n");
            exit(1);
        }
        if (*len - at < 16 + hdr[3]) break;
        at += 16 + hdr[3];
        replies++;
    }
    memmove(buf, buf + at, *len - at);
    *len -= at;
    return replies;
}

struct writer {
    int fd;
    const uint8_t *bytes;
    size_t len;
};

static void *write_all(void *arg) {
    struct writer *w = arg;
    size_t at = 0;
    while (at < w->len) {
        ssize_t n = write(w->fd, w->bytes + at, w->len - at);
        if (n <= 0) exit(1);
        at += n;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s SOCKET seq|pipe N\n", argv[0]);
        return 2;
    }
    long n = atol(argv[3]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    if (n <= 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        return 1;
    }
    static uint8_t in[1 << 16];
    size_t have = 0;
    if (strcmp(argv[2], "seq") == 0) {
        uint8_t out[FRAME];
        double *lat = malloc(sizeof(double) * n);
        double start = now_us();
        for (long i = 0; i < n; i++) {
            double t0 = now_us();
            frame(out, (uint32_t)i + 1);
            if (write(fd, out, FRAME) != (ssize_t)FRAME) return 1;
            long got = 0;
            while (got == 0) {
                ssize_t r = read(fd, in + have, sizeof in - have);
                if (r <= 0) return 1;
                have += r;
                got = consume(in, &have);
            }
            lat[i] = now_us() - t0;
        }
        double total = now_us() - start;
        qsort(lat, n, sizeof(double), cmp);
        printf("%.0f %.2f\n", n / (total / 1e6), lat[n / 2]);
        return 0;
    }
    uint8_t *out = malloc(FRAME * n);
    for (long i = 0; i < n; i++) frame(out + i * FRAME, (uint32_t)i + 1);
    struct writer w = {fd, out, FRAME * n};
    pthread_t thread;
    long replies = 0;
    static uint8_t big[1 << 20];
    double start = now_us();
    pthread_create(&thread, NULL, write_all, &w);
    while (replies < n) {
        ssize_t r = read(fd, big + have, sizeof big - have);
        if (r <= 0) return 1;
        have += r;
        replies += consume(big, &have);
    }
    pthread_join(thread, NULL);
    double total = now_us() - start;
    printf("%.0f 0\n", n / (total / 1e6));
    return 0;
}
