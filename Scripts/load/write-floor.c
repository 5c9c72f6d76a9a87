// The kernel's floor under one broadcast on this machine (issue 10): a writer process that
// does nothing but write() 100 bytes to each of N accepted loopback TCP sockets, one after
// another, and a reader process that epoll-reads them all, as a load generator does. No
// server can deliver one message to N local clients faster than this loop (one write per
// socket is the least TCP allows), so `Scripts/load/crowd`'s broadcast time is read against it.
// Usage: write-floor N [one|two|busy]: one writer thread (default); two threads, each half of
// the sockets; or one writer and a busy-polling reader (no wake-ups). Bounded by alarm(60).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MESSAGE = 100 };
static int *sockets, count;
static char message[MESSAGE];

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpuSeconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what) { perror(what); exit(1); }

static void *writeHalf(void *half) {
    for (int i = (int)(long)half; i < count; i += 2)
        if (write(sockets[i], message, MESSAGE) != MESSAGE) fail("write");
    return NULL;
}

// Connects N sockets, then reads until each has had its message; prints when the last did.
static void reader(struct sockaddr_in address, int ready, int busy) {
    int poller = epoll_create1(0);
    for (int i = 0; i < count; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
        struct epoll_event event = {.events = EPOLLIN, .data.fd = s};
        epoll_ctl(poller, EPOLL_CTL_ADD, s, &event);
    }
    double start;
    if (read(ready, &start, sizeof start) != sizeof start) fail("read start");
    double cpu = cpuSeconds();
    char buffer[256];
    struct epoll_event events[256];
    for (int got = 0; got < count;) {
        int k = epoll_wait(poller, events, 256, busy ? 0 : -1);
        for (int i = 0; i < k; i++)
            if (read(events[i].data.fd, buffer, sizeof buffer) > 0) got++;
    }
    printf("  reader: the last socket had its message %.1f ms after the first write (reader CPU %.1f ms, %s)\n",
           (seconds() - start) * 1e3, (cpuSeconds() - cpu) * 1e3, busy ? "busy-polling" : "blocking in epoll_wait");
    exit(0);
}

int main(int argc, char **argv) {
    count = argc > 1 ? atoi(argv[1]) : 10000;
    const char *mode = argc > 2 ? argv[2] : "one";
    int two = strcmp(mode, "two") == 0, busy = strcmp(mode, "busy") == 0;
    alarm(60);
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    if (count < 1 || (rlim_t)count + 16 > limit.rlim_cur) {
        fprintf(stderr, "write-floor: N must be 1…%ld (the descriptor limit less 16)\n", (long)limit.rlim_cur - 16);
        return 64;
    }
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 4096) < 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) < 0) fail("listen");
    int ready[2];
    if (pipe(ready) < 0) fail("pipe");
    pid_t child = fork();
    if (child < 0) fail("fork");
    if (child == 0) reader(address, ready[0], busy);

    sockets = malloc(sizeof(int) * count);
    for (int i = 0; i < count; i++) {
        if ((sockets[i] = accept(listener, NULL, NULL)) < 0) fail("accept");
        setsockopt(sockets[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    usleep(300000);  // let the reader settle into epoll_wait
    memset(message, 'x', MESSAGE);
    double cpu = cpuSeconds(), start = seconds();
    if (write(ready[1], &start, sizeof start) != sizeof start) fail("write start");
    if (two) {
        pthread_t threads[2];
        for (long half = 0; half < 2; half++) pthread_create(&threads[half], NULL, writeHalf, (void *)half);
        for (int half = 0; half < 2; half++) pthread_join(threads[half], NULL);
    } else {
        writeHalf((void *)0L);
        writeHalf((void *)1L);
    }
    double wall = seconds() - start, used = cpuSeconds() - cpu;
    printf("  writer: %d writes of %d B in %.1f ms, %.1f ms CPU (%.1f µs a write)%s\n", count, MESSAGE,
           wall * 1e3, used * 1e3, used * 1e6 / count, two ? ", two threads" : "");
    fflush(stdout);
    int status = 1;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
