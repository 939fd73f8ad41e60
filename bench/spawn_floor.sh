#!/usr/bin/env bash
# The floor under "trivial jobs per second" on this machine (issue 20):
# the CPU one process start costs with nothing else running, from a tight
# posix_spawn + waitpid loop in C (what an agent's task start is at the
# least), for /bin/true (dynamically linked, as a job's `true` is), a
# static binary, and one that makes no library calls at all.
# Usage: bench/spawn_floor.sh [N]   (default 2000)
set -euo pipefail
N="${1:-2000}"
D="$(mktemp -d)"
trap 'rm -rf "$D"' EXIT
cat > "$D/spawn.c" <<'C'
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
static double cpu(int who) {
  struct rusage u;
  getrusage(who, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  char *args[] = {argv[2], 0};
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    pid_t p;
    int st;
    if (posix_spawn(&p, argv[2], 0, 0, args, environ) != 0) return 1;
    waitpid(p, &st, 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double wall = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
  double c = cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN);
  printf("| %s | %.3f ms | %.3f ms | %.0f |\n", argv[3], wall * 1e3 / n, c * 1e3 / n, 2 / (c / n));
  return 0;
}
C
gcc -O2 "$D/spawn.c" -o "$D/spawn"
printf 'int main(void){return 0;}\n' > "$D/t.c"
gcc -O2 -static "$D/t.c" -o "$D/true_static"
printf 'void _start(void){__asm__ volatile("mov $60,%%eax; xor %%edi,%%edi; syscall");}\n' > "$D/tiny.c"
gcc -O2 -static -nostdlib "$D/tiny.c" -o "$D/true_tiny"
echo "| program | wall per start | CPU per start | starts/s two cores could make, nothing else running |"
echo "|---|---|---|---|"
"$D/spawn" "$N" /bin/true "/bin/true (dynamic)"
"$D/spawn" "$N" "$D/true_static" "static, libc"
"$D/spawn" "$N" "$D/true_tiny" "static, no libc (one exit syscall)"
