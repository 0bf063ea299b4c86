/* SPDX-License-Identifier: MIT */
/* client.c: the one echo client every server is measured with: C connections on one epoll
 * thread, each sending a message of S bytes and waiting for all of it to come back before the
 * next (uvloop's benchmark shape), for T seconds. Prints "requests/s p50_us p99_us".
 * Usage: client PORT CONNS SIZE SECONDS */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAXC = 256, MAXS = 2000000 };

typedef struct conn {
    int    fd;
    size_t sent, got;
    double t0;
} conn;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    int port = atoi(argv[1]), nc = atoi(argv[2]);
    size_t size = strtoul(argv[3], NULL, 10);
    double secs = atof(argv[4]);
    if (nc < 1 || nc > MAXC || size == 0)
        return 2;
    char *out = malloc(size), *in = malloc(size);
    for (size_t i = 0; i < size; i++)
        out[i] = (char)('a' + i % 26);
    static double lat[MAXS];
    long nlat = 0, done = 0;
    conn cs[MAXC];
    int ep = epoll_create1(0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    for (int i = 0; i < nc; i++) {
        cs[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(cs[i].fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
            perror("connect");
            return 1;
        }
        int one = 1;
        setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i };
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        cs[i].sent = cs[i].got = 0;
        cs[i].t0 = now();
    }
    double start = now(), end = start + secs;
    while (now() < end) {
        struct epoll_event evs[MAXC];
        int n = epoll_wait(ep, evs, MAXC, 100);
        for (int k = 0; k < n; k++) {
            conn *c = &cs[evs[k].data.u32];
            for (;;) {
                bool moved = false;
                if (c->sent < size) {
                    ssize_t w = send(c->fd, out + c->sent, size - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (w > 0) {
                        c->sent += (size_t)w;
                        moved = true;
                    }
                }
                ssize_t r = recv(c->fd, in, size - c->got, MSG_DONTWAIT);
                if (r > 0) {
                    c->got += (size_t)r;
                    moved = true;
                } else if (r == 0) {
                    fprintf(stderr, "server closed\n");
                    return 1;
                }
                if (c->got == size) {
                    double t = now();
                    if (nlat < MAXS)
                        lat[nlat++] = t - c->t0;
                    done++;
                    c->sent = c->got = 0;
                    c->t0 = t;
                    continue;
                }
                if (!moved)
                    break;
            }
        }
    }
    double el = now() - start;
    qsort(lat, (size_t)nlat, sizeof *lat, cmp);
    double p50 = nlat ? lat[nlat / 2] * 1e6 : 0, p99 = nlat ? lat[nlat * 99 / 100] * 1e6 : 0;
    printf("%.1f %.1f %.1f\n", (double)done / el, p50, p99);
    return 0;
}
