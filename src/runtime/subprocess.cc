#include "runtime/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "runtime/real_clock.h"

namespace stargate {

StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text,
                                   Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("RunCommand: no program");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return absl::UnavailableError("pipe failed");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return absl::UnavailableError("pipe failed");
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    return absl::UnavailableError("pipe failed");
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(in[1]), close(out[0]), close(err[0]);
    return absl::UnavailableError(fmt::format("cannot start {}", argv[0]));
  }
  // Feed stdin and drain both outputs together: a child blocked on a full
  // pipe would never exit.
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t fed = 0;
  int in_fd = stdin_text.empty() ? -1 : in[1];
  if (in_fd < 0) close(in[1]);
  CommandResult r;
  int open_fds = 2;
  RealClock clock;
  const Time deadline = clock.Now() + timeout;
  bool timed_out = false;
  while (open_fds > 0 || in_fd >= 0) {
    const int64_t left = (deadline - clock.Now()).millis();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, 3, static_cast<int>(std::min<int64_t>(left, 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[65536];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        (i == 0 ? out[0] : err[0]) = -1;
        --open_fds;
      }
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n = write(in_fd, stdin_text.data() + fed, stdin_text.size() - fed);
      if (n > 0) fed += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) fed = stdin_text.size();  // the child closed its stdin
      if (fed == stdin_text.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out[0] >= 0) close(out[0]);
  if (err[0] >= 0) close(err[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return absl::UnavailableError(fmt::format("{} did not finish in {} ms", argv[0], timeout.millis()));
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (r.exit_code == 127 && r.out.empty() && r.err.empty()) {
    return absl::UnavailableError(fmt::format("cannot run {} (not installed?)", argv[0]));
  }
  return r;
}

}  // namespace stargate
