#include "control/net/http_server.h"

#include <absl/base/thread_annotations.h>
#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

namespace stargate::control {
namespace {

constexpr uint64_t kListenTag = 0, kWakeTag = 1;  // epoll tags; connections count from 2
constexpr int kTickMs = 100;                      // deadlines are checked this often

// Answers with what GET resp.fetch_url gives (a task log chunk): its body
// as text and X-Next-Offset; 502 with a JSON error when it cannot be had.
HttpResponse Fetch(const HttpResponse& resp) {
  const std::string& url = resp.fetch_url;
  const size_t path_at = url.find('/', url.find("//") + 2);
  httplib::Client client(url.substr(0, path_at));
  // Short: each fetch holds one of the worker threads, and a node cut off
  // should not tie them up (a 1 MiB chunk takes ms on a LAN).
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(5, 0);
  httplib::Headers h(resp.fetch_headers.begin(), resp.fetch_headers.end());
  httplib::Result r = client.Get(url.substr(path_at), h);
  if (!r) {
    return HttpErrorResponse(502, "unavailable",
                             fmt::format("the node's log server does not answer: {}", httplib::to_string(r.error())));
  }
  if (r->status == 404) return HttpErrorResponse(404, "not_found", "no log yet for this rank's attempt");
  if (r->status != 200) {
    return HttpErrorResponse(502, "unavailable", fmt::format("the node's log server answered HTTP {}", r->status));
  }
  HttpResponse out(200, r->body);
  out.content_type = "text/plain";
  out.headers["X-Next-Offset"] = r->get_header_value("X-Next-Offset");
  return out;
}

std::string_view CodeOf(int status) {
  switch (status) {
    case 408:
      return "timeout";
    case 411:
      return "length_required";
    case 413:
      return "too_large";
    case 414:
      return "uri_too_long";
    case 431:
      return "headers_too_large";
    case 501:
      return "not_implemented";
    case 503:
      return "unavailable";
    case 505:
      return "http_version";
    default:
      return "bad_request";
  }
}

std::string PeerAddress(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, text, sizeof text);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, text, sizeof text);
  }
  return text;
}

// Best effort, for a connection about to be closed: one non-blocking send.
void SendAndForget(int fd, const std::string& bytes) {
  (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

struct HttpServer::Impl {
  HttpHandler handler;
  const Clock* clock = nullptr;
  HttpServerOptions o;
  std::map<std::string, StaticFile> files;  // by URL path (set before serving)
  std::string index;                        // where GET / goes ("" = to the handler)

  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  std::atomic<bool> listening{false}, stop{false};
  std::atomic<size_t> open{0};

  // Complete requests to the workers, answers back to the loop.
  struct Job {
    uint64_t conn;
    HttpRequest request;
    bool keep_alive;
  };
  struct Answer {
    uint64_t conn;
    std::string bytes;
    bool keep_alive;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs ABSL_GUARDED_BY(mu);
  std::vector<Answer> answers ABSL_GUARDED_BY(mu);
  bool quit ABSL_GUARDED_BY(mu) = false;
  std::vector<std::thread> workers;

  // The loop's own state (its thread only).
  struct Conn {
    int fd = -1;
    std::string peer;
    enum class Phase { kReading, kBusy, kWriting } phase = Phase::kReading;
    std::string in;                 // bytes read and not yet handled
    std::optional<HeadParse> head;  // the current request's head, once complete
    bool started = false;           // a byte of the current request arrived
    bool continue_sent = false;
    std::string out;
    size_t out_at = 0;
    bool close_after = false;
    Time deadline;
  };
  std::unordered_map<uint64_t, Conn> conns;
  std::unordered_map<std::string, size_t> per_client;
  uint64_t next_id = 2;
  bool accept_paused = false;
  Time last_sweep;

  HttpResponse Handle(const HttpRequest& in);
  void Work();
  void Watch(uint64_t id, uint32_t events, int op = EPOLL_CTL_MOD) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    epoll_ctl(epoll_fd, op, id == kListenTag ? listen_fd : id == kWakeTag ? wake_fd : conns.at(id).fd, &ev);
  }
  void AcceptAll(Time now);
  void Readable(uint64_t id, Time now);
  void Writable(uint64_t id, Time now);
  void Advance(uint64_t id, Time now);
  // A request's first byte is in: its read deadline runs from now.
  void NoteStart(Conn& c, Time now) {
    if (c.started || c.in.empty()) return;
    c.started = true;
    c.deadline = now + o.read_timeout;
  }
  void Respond(uint64_t id, std::string bytes, bool keep_alive, Time now);
  void Close(uint64_t id);
  void Sweep(Time now);
  void TakeAnswers(Time now);
};

HttpResponse HttpServer::Impl::Handle(const HttpRequest& in) {
  if (in.method == "GET") {
    if (auto f = files.find(in.path); f != files.end()) {
      HttpResponse out(200, f->second.body);
      out.content_type = f->second.content_type;
      return out;
    }
    if (in.path == "/" && !index.empty()) {
      HttpResponse out(302, "");
      out.content_type = "text/plain";
      out.headers["Location"] = index;
      return out;
    }
  }
  HttpResponse resp;
  try {
    resp = handler(in);
  } catch (const std::exception& e) {  // a handler bug answers 500, never ends the server
    return HttpErrorResponse(500, "internal", e.what());
  }
  return resp.fetch_url.empty() ? resp : Fetch(resp);
}

void HttpServer::Impl::Work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return quit || !jobs.empty(); });
      if (quit) return;
      job = std::move(jobs.front());
      jobs.pop_front();
    }
    std::string bytes = SerializeResponse(Handle(job.request), job.keep_alive);
    {
      std::lock_guard<std::mutex> lock(mu);
      answers.push_back({job.conn, std::move(bytes), job.keep_alive});
    }
    const uint64_t one = 1;
    (void)!write(wake_fd, &one, sizeof one);
  }
}

void HttpServer::Impl::AcceptAll(Time now) {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop accepting (the listener would wake the
        // loop at once forever) until the next sweep.
        Watch(kListenTag, 0);
        accept_paused = true;
      }
      return;
    }
    std::string peer = PeerAddress(ss);
    if (conns.size() >= o.max_connections || per_client[peer] >= o.max_per_client) {
      const bool mine = per_client[peer] >= o.max_per_client;
      if (per_client[peer] == 0) per_client.erase(peer);
      SendAndForget(
          fd, SerializeResponse(HttpErrorResponse(503, "unavailable",
                                                  mine ? "too many connections from this address; close some and retry"
                                                       : "the server has too many connections; retry shortly"),
                                false));
      close(fd);
      continue;
    }
    const int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    const uint64_t id = next_id++;
    Conn& c = conns[id];
    c.fd = fd;
    c.peer = std::move(peer);
    c.deadline = now + o.idle_timeout;
    ++per_client[c.peer];
    open.store(conns.size());
    Watch(id, EPOLLIN, EPOLL_CTL_ADD);
  }
}

void HttpServer::Impl::Readable(uint64_t id, Time now) {
  Conn& c = conns.at(id);
  char buf[16384];
  bool eof = false;
  bool new_line = false;
  for (;;) {
    const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      new_line = new_line || std::memchr(buf, '\n', static_cast<size_t>(n)) != nullptr;
      // More than one request can hold: a client that ignores the limits.
      if (c.in.size() > o.limits.max_head + o.limits.max_body + 4096) {
        Close(id);
        return;
      }
      continue;
    }
    if (n == 0) {
      eof = true;
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      eof = true;
    }
    break;
  }
  if (eof) {  // the client went away (half-closed connections are not served)
    Close(id);
    return;
  }
  NoteStart(c, now);
  // A head is re-parsed only when a line may have ended (a client sending a
  // byte at a time costs no rescans) or when it may have outgrown a limit.
  if (c.head.has_value() || new_line || c.in.size() > o.limits.max_target) Advance(id, now);
}

void HttpServer::Impl::Advance(uint64_t id, Time now) {
  Conn& c = conns.at(id);
  if (c.in.empty()) return;
  NoteStart(c, now);
  if (!c.head.has_value()) {
    HeadParse p = ParseRequestHead(c.in, o.limits);
    if (p.state == HeadParse::State::kIncomplete) return;
    if (p.state == HeadParse::State::kError) {
      Respond(id, SerializeResponse(HttpErrorResponse(p.error_status, CodeOf(p.error_status), p.error_message), false),
              false, now);
      return;
    }
    c.head = std::move(p);
  }
  HeadParse& h = *c.head;
  if (c.in.size() < h.head_bytes + h.content_length) {
    if (h.expect_continue && !c.continue_sent) {
      c.continue_sent = true;
      SendAndForget(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    return;
  }
  Job job{id, std::move(h.request), h.keep_alive};
  job.request.body = c.in.substr(h.head_bytes, h.content_length);
  c.in.erase(0, h.head_bytes + h.content_length);
  c.head.reset();
  c.started = false;
  c.continue_sent = false;
  c.phase = Conn::Phase::kBusy;
  Watch(id, 0);  // nothing more is read until this one is answered
  {
    std::lock_guard<std::mutex> lock(mu);
    jobs.push_back(std::move(job));
  }
  cv.notify_one();
}

void HttpServer::Impl::Respond(uint64_t id, std::string bytes, bool keep_alive, Time now) {
  Conn& c = conns.at(id);
  c.out = std::move(bytes);
  c.out_at = 0;
  c.close_after = !keep_alive;
  c.phase = Conn::Phase::kWriting;
  c.deadline = now + o.write_timeout;
  Writable(id, now);
}

void HttpServer::Impl::Writable(uint64_t id, Time now) {
  Conn& c = conns.at(id);
  if (c.phase != Conn::Phase::kWriting) return;
  while (c.out_at < c.out.size()) {
    const ssize_t n = send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_at += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Watch(id, EPOLLOUT);
      return;
    }
    Close(id);
    return;
  }
  if (c.close_after) {
    Close(id);
    return;
  }
  c.out.clear();
  c.out_at = 0;
  c.phase = Conn::Phase::kReading;
  c.deadline = now + o.idle_timeout;
  Watch(id, EPOLLIN);
  Advance(id, now);  // a request the client sent behind this one
}

void HttpServer::Impl::Close(uint64_t id) {
  auto it = conns.find(id);
  if (it == conns.end()) return;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, it->second.fd, nullptr);
  close(it->second.fd);
  if (auto pc = per_client.find(it->second.peer); pc != per_client.end() && --pc->second == 0) per_client.erase(pc);
  conns.erase(it);
  open.store(conns.size());
}

void HttpServer::Impl::Sweep(Time now) {
  if (now - last_sweep < Duration::Millis(kTickMs)) return;
  last_sweep = now;
  if (accept_paused) {
    accept_paused = false;
    Watch(kListenTag, EPOLLIN);
  }
  std::vector<uint64_t> late;
  for (auto& [id, c] : conns) {
    if (c.phase != Conn::Phase::kBusy && now >= c.deadline) late.push_back(id);
  }
  for (uint64_t id : late) {
    Conn& c = conns.at(id);
    if (c.phase == Conn::Phase::kReading && c.started) {
      SendAndForget(c.fd,
                    SerializeResponse(HttpErrorResponse(408, "timeout", "the request took too long to arrive"), false));
    }
    Close(id);
  }
}

void HttpServer::Impl::TakeAnswers(Time now) {
  std::vector<Answer> ready;
  {
    std::lock_guard<std::mutex> lock(mu);
    ready.swap(answers);
  }
  for (Answer& a : ready) {
    if (conns.count(a.conn)) Respond(a.conn, std::move(a.bytes), a.keep_alive, now);
  }
}

HttpServer::HttpServer(HttpHandler handler, const Clock* clock, HttpServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->clock = clock;
  impl_->o = std::move(options);
  if (impl_->o.workers < 1) impl_->o.workers = 1;
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

HttpServer::~HttpServer() {
  Stop();
  if (impl_->listen_fd >= 0) close(impl_->listen_fd);
  if (impl_->epoll_fd >= 0) close(impl_->epoll_fd);
  if (impl_->wake_fd >= 0) close(impl_->wake_fd);
}

void HttpServer::ServeFiles(std::map<std::string, StaticFile> files, std::string index) {
  impl_->files = std::move(files);
  impl_->index = std::move(index);
}

StatusOr<int> HttpServer::Bind(const std::string& host, int port) {
  if (impl_->epoll_fd < 0 || impl_->wake_fd < 0) {
    return absl::UnavailableError(fmt::format("cannot set up the HTTP server: {}", std::strerror(errno)));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(fmt::format("cannot listen on {}:{}: {}", host, port, gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0)
    return absl::UnavailableError(fmt::format("cannot listen on {}:{}: {}", host, port, std::strerror(errno)));
  // SO_REUSEADDR only (a restarted server rebinds past TIME_WAIT); never
  // SO_REUSEPORT, which would let a second server share the port.
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
    const int err = errno;
    close(fd);
    if (err == EADDRINUSE) {
      return absl::UnavailableError(
          fmt::format("cannot listen on {}:{}: address in use (another process listens there)", host, port));
    }
    return absl::UnavailableError(fmt::format("cannot listen on {}:{}: {}", host, port, std::strerror(err)));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  impl_->listen_fd = fd;
  return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(ss).sin6_port)
                                  : ntohs(reinterpret_cast<sockaddr_in&>(ss).sin_port);
}

Status HttpServer::Serve() {
  Impl& s = *impl_;
  if (s.listen_fd < 0) return absl::FailedPreconditionError("HttpServer::Serve before a successful Bind");
  s.Watch(kListenTag, EPOLLIN, EPOLL_CTL_ADD);
  s.Watch(kWakeTag, EPOLLIN, EPOLL_CTL_ADD);
  for (int i = 0; i < s.o.workers; ++i) s.workers.emplace_back([&s] { s.Work(); });
  s.last_sweep = s.clock->Now();
  s.listening = true;
  Status result;
  std::vector<epoll_event> events(256);
  while (!s.stop.load()) {
    const int n = epoll_wait(s.epoll_fd, events.data(), static_cast<int>(events.size()), kTickMs);
    if (n < 0 && errno != EINTR) {
      result = absl::UnavailableError(fmt::format("the HTTP server's event loop failed: {}", std::strerror(errno)));
      break;
    }
    const Time now = s.clock->Now();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenTag) {
        s.AcceptAll(now);
      } else if (id == kWakeTag) {
        uint64_t count = 0;
        (void)!read(s.wake_fd, &count, sizeof count);
      } else if (s.conns.count(id)) {
        if (events[i].events & EPOLLERR) {
          s.Close(id);
          continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLHUP)) s.Readable(id, now);
        if ((events[i].events & EPOLLOUT) && s.conns.count(id)) s.Writable(id, now);
      }
    }
    s.TakeAnswers(now);
    s.Sweep(now);
  }
  s.listening = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.quit = true;
  }
  s.cv.notify_all();
  for (std::thread& t : s.workers) t.join();
  s.workers.clear();
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : s.conns) ids.push_back(id);
  for (uint64_t id : ids) s.Close(id);
  epoll_ctl(s.epoll_fd, EPOLL_CTL_DEL, s.listen_fd, nullptr);
  close(s.listen_fd);  // the port is free once Serve returns
  s.listen_fd = -1;
  return result;
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->stop = true;
  const uint64_t one = 1;
  if (impl_->wake_fd >= 0) (void)!write(impl_->wake_fd, &one, sizeof one);
}

bool HttpServer::running() const { return impl_->listening.load(); }

size_t HttpServer::connections() const { return impl_->open.load(); }

}  // namespace stargate::control
