// Host sockets for network mode `host`: thin wrappers over socket(2), bind(2), connect(2),
// listen(2), accept4(2), getsockname(2)/getpeername(2), sendmsg(2), recvmsg(2), setsockopt(2),
// getsockopt(2), shutdown(2), int ioctls, poll(2), and a readiness watch on libuv's own epoll
// (uv_poll), which Node has no binding for on raw fds; the watch can also report each wakeup of
// the fd, as an edge-triggered epoll does (an epoll of its own, which libuv watches).
//
// Policy-free, like addon.cc: every buffer here is one the TypeScript caller made (addresses and
// option values already validated and re-encoded there); nothing comes from sandbox memory. Each
// call returns its result or -errno and never throws for a host failure; wrong argument shapes
// throw a "Usage: ..." TypeError.

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

namespace {

[[noreturn]] void Usage(Napi::Env env, const char* text) {
  throw Napi::TypeError::New(env, std::string("Usage: ") + text);
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsNumber()) Usage(info.Env(), usage);
  return info[i].As<Napi::Number>().Int32Value();
}

// A Uint8Array argument as (pointer, length); `optional` allows null/undefined (nullptr, 0).
bool BytesArg(const Napi::CallbackInfo& info, size_t i, bool optional, uint8_t** p, size_t* n,
              const char* usage) {
  if (info.Length() > i && info[i].IsTypedArray()) {
    auto a = info[i].As<Napi::TypedArray>();
    if (a.TypedArrayType() != napi_uint8_array) Usage(info.Env(), usage);
    auto u = a.As<Napi::Uint8Array>();
    *p = u.Data();
    *n = u.ByteLength();
    return true;
  }
  if (optional && (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined())) {
    *p = nullptr;
    *n = 0;
    return false;
  }
  Usage(info.Env(), usage);
}

Napi::Value Result(Napi::Env env, long r) { return Napi::Number::New(env, r < 0 ? -errno : static_cast<double>(r)); }

// sockSocket(domain, type, protocol) -> fd | -errno
Napi::Value SockSocket(const Napi::CallbackInfo& info) {
  const char* u = "sockSocket(domain: number, type: number, protocol: number)";
  int d = IntArg(info, 0, u), t = IntArg(info, 1, u), p = IntArg(info, 2, u);
  return Result(info.Env(), socket(d, t, p));
}

// sockBind(fd, addr) / sockConnect(fd, addr) -> 0 | -errno
Napi::Value SockBind(const Napi::CallbackInfo& info) {
  const char* u = "sockBind(fd: number, addr: Uint8Array)";
  int fd = IntArg(info, 0, u);
  uint8_t* a;
  size_t n;
  BytesArg(info, 1, false, &a, &n, u);
  return Result(info.Env(), bind(fd, reinterpret_cast<sockaddr*>(a), static_cast<socklen_t>(n)));
}

Napi::Value SockConnect(const Napi::CallbackInfo& info) {
  const char* u = "sockConnect(fd: number, addr: Uint8Array)";
  int fd = IntArg(info, 0, u);
  uint8_t* a;
  size_t n;
  BytesArg(info, 1, false, &a, &n, u);
  return Result(info.Env(), connect(fd, reinterpret_cast<sockaddr*>(a), static_cast<socklen_t>(n)));
}

// sockListen(fd, backlog) -> 0 | -errno
Napi::Value SockListen(const Napi::CallbackInfo& info) {
  const char* u = "sockListen(fd: number, backlog: number)";
  int fd = IntArg(info, 0, u), b = IntArg(info, 1, u);
  return Result(info.Env(), listen(fd, b));
}

// sockAccept(fd, flags) -> new fd | -errno (the peer's address: sockName(fd, 1, out))
Napi::Value SockAccept(const Napi::CallbackInfo& info) {
  const char* u = "sockAccept(fd: number, flags: number)";
  int fd = IntArg(info, 0, u), f = IntArg(info, 1, u);
  return Result(info.Env(), accept4(fd, nullptr, nullptr, f));
}

// sockName(fd, peer, out) -> the full address length | -errno; at most out.length bytes stored
Napi::Value SockName(const Napi::CallbackInfo& info) {
  const char* u = "sockName(fd: number, peer: 0 | 1, out: Uint8Array)";
  int fd = IntArg(info, 0, u), peer = IntArg(info, 1, u);
  uint8_t* a;
  size_t n;
  BytesArg(info, 2, false, &a, &n, u);
  socklen_t len = static_cast<socklen_t>(n);
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(a), &len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(a), &len);
  return Result(info.Env(), r < 0 ? r : static_cast<long>(len));
}

// sockSend(fd, data, addr | null, flags[, control | null]) -> bytes sent | -errno; `control` is
// the msg_control bytes (cmsgs the caller built and checked).
Napi::Value SockSend(const Napi::CallbackInfo& info) {
  const char* u =
      "sockSend(fd: number, data: Uint8Array, addr: Uint8Array | null, flags: number, control?: Uint8Array | null)";
  int fd = IntArg(info, 0, u);
  uint8_t *d, *a, *c;
  size_t dn, an, cn;
  BytesArg(info, 1, false, &d, &dn, u);
  BytesArg(info, 2, true, &a, &an, u);
  int flags = IntArg(info, 3, u);
  BytesArg(info, 4, true, &c, &cn, u);
  iovec iov{d, dn};
  msghdr m{};
  m.msg_name = a;
  m.msg_namelen = static_cast<socklen_t>(an);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = cn > 0 ? c : nullptr;
  m.msg_controllen = cn;
  return Result(info.Env(), sendmsg(fd, &m, flags));
}

// sockRecv(fd, buf, flags, addrOut, meta: Int32Array(2 or 3)[, control | null]) -> bytes (or the
// datagram's length with MSG_TRUNC) | -errno; meta[0] = the sender address's length, meta[1] =
// msg_flags, and with a control buffer meta[2] = the cmsg bytes stored in it (msg_controllen).
Napi::Value SockRecv(const Napi::CallbackInfo& info) {
  const char* u =
      "sockRecv(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array, meta: Int32Array, control?: "
      "Uint8Array | null)";
  int fd = IntArg(info, 0, u);
  uint8_t *b, *a, *c;
  size_t bn, an, cn;
  BytesArg(info, 1, false, &b, &bn, u);
  int flags = IntArg(info, 2, u);
  BytesArg(info, 3, false, &a, &an, u);
  if (info.Length() < 5 || !info[4].IsTypedArray() ||
      info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      info[4].As<Napi::Int32Array>().ElementLength() < 2)
    Usage(info.Env(), u);
  auto metaArray = info[4].As<Napi::Int32Array>();
  int32_t* meta = metaArray.Data();
  bool control = BytesArg(info, 5, true, &c, &cn, u);
  if (control && metaArray.ElementLength() < 3) Usage(info.Env(), u);
  iovec iov{b, bn};
  msghdr m{};
  m.msg_name = a;
  m.msg_namelen = static_cast<socklen_t>(an);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  // No room (an empty buffer, or none) still has the host report MSG_CTRUNC for cmsgs it had.
  m.msg_control = cn > 0 ? c : nullptr;
  m.msg_controllen = cn;
  ssize_t r = recvmsg(fd, &m, flags);
  if (r >= 0) {
    meta[0] = static_cast<int32_t>(m.msg_namelen);
    meta[1] = m.msg_flags;
    if (control) meta[2] = static_cast<int32_t>(m.msg_controllen);
  }
  return Result(info.Env(), r);
}

// sockSetOpt(fd, level, name, value) -> 0 | -errno
Napi::Value SockSetOpt(const Napi::CallbackInfo& info) {
  const char* u = "sockSetOpt(fd: number, level: number, name: number, value: Uint8Array)";
  int fd = IntArg(info, 0, u), level = IntArg(info, 1, u), name = IntArg(info, 2, u);
  uint8_t* v;
  size_t n;
  BytesArg(info, 3, false, &v, &n, u);
  return Result(info.Env(), setsockopt(fd, level, name, v, static_cast<socklen_t>(n)));
}

// sockGetOpt(fd, level, name, out) -> the value's length | -errno
Napi::Value SockGetOpt(const Napi::CallbackInfo& info) {
  const char* u = "sockGetOpt(fd: number, level: number, name: number, out: Uint8Array)";
  int fd = IntArg(info, 0, u), level = IntArg(info, 1, u), name = IntArg(info, 2, u);
  uint8_t* v;
  size_t n;
  BytesArg(info, 3, false, &v, &n, u);
  socklen_t len = static_cast<socklen_t>(n);
  int r = getsockopt(fd, level, name, v, &len);
  return Result(info.Env(), r < 0 ? r : static_cast<long>(len));
}

// sockShutdown(fd, how) -> 0 | -errno
Napi::Value SockShutdown(const Napi::CallbackInfo& info) {
  const char* u = "sockShutdown(fd: number, how: number)";
  int fd = IntArg(info, 0, u), how = IntArg(info, 1, u);
  return Result(info.Env(), shutdown(fd, how));
}

// ioctlInt(fd, cmd) -> the int the ioctl stores (FIONREAD, SIOCOUTQ, ...) | -errno
Napi::Value IoctlInt(const Napi::CallbackInfo& info) {
  const char* u = "ioctlInt(fd: number, cmd: number)";
  int fd = IntArg(info, 0, u);
  unsigned cmd = static_cast<unsigned>(IntArg(info, 1, u));
  int v = 0;
  int r = ioctl(fd, cmd, &v);
  return Result(info.Env(), r < 0 ? r : v);
}

// fdPoll(fd, events) -> revents now (poll(2) with a zero timeout) | -errno
Napi::Value FdPoll(const Napi::CallbackInfo& info) {
  const char* u = "fdPoll(fd: number, events: number)";
  pollfd p{IntArg(info, 0, u), static_cast<short>(IntArg(info, 1, u)), 0};
  int r = poll(&p, 1, 0);
  return Result(info.Env(), r < 0 ? r : static_cast<unsigned short>(p.revents));
}

// ---- readiness watches on libuv's epoll ----

// A watch's report of the fd's wakeups: an epoll holding only the fd, edge-triggered, whose
// readiness libuv watches. Each wakeup of the fd by an event it asks for (a segment or datagram
// queued, the peer's FIN...) puts the fd on that epoll's ready list once more, as Linux's
// ep_poll_callback does for the sandbox's own EPOLLET waiters.
struct EdgeWatch {
  uv_poll_t handle;
  int epfd;
  int id;
};

struct Watch {
  uv_poll_t handle;
  int id;
  int fd;
  EdgeWatch* edges = nullptr;
};

// What the dispatch function gets, besides the events, for a report of the edge watch.
constexpr int kEdgeReport = 1 << 30;

// Per thread (each Node environment runs its own loop on its own thread).
struct Watches {
  napi_env env = nullptr;
  Napi::FunctionReference dispatch;  // (id, events) => void
  std::unordered_map<int, Watch*> byId;
  int next = 1;
};
thread_local Watches* watches = nullptr;

void Dispatch(Watches* ws, int id, int events) {
  Napi::Env env(ws->env);
  Napi::HandleScope scope(env);
  napi_value argv[2] = {Napi::Number::New(env, id), Napi::Number::New(env, events)};
  napi_value result;
  napi_status s = napi_make_callback(ws->env, nullptr, env.Global(), ws->dispatch.Value(), 2, argv, &result);
  if (s == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(ws->env, &e);
    napi_fatal_exception(ws->env, e);
  }
}

void OnPoll(uv_poll_t* h, int status, int events) {
  Watch* w = static_cast<Watch*>(h->data);
  Watches* ws = watches;
  if (!ws || ws->dispatch.IsEmpty()) return;
  // An error on the fd (status < 0) wakes the watcher too: its next look at the fd sees it.
  int ev = status < 0 ? (UV_READABLE | UV_WRITABLE) : events;
  // The watch fires once; the owner re-arms it when it waits again (libuv's epoll is level-
  // triggered, so an armed watch on a ready fd would fire on every loop turn).
  uv_poll_stop(h);
  Dispatch(ws, w->id, ev);
}

// Takes the edge epoll's one event (the wakeups since the last report, coalesced): its events,
// or 0 when there is none.
int TakeEdge(int epfd) {
  epoll_event e{};
  return epoll_wait(epfd, &e, 1, 0) == 1 ? static_cast<int>(e.events & 0xffff) : 0;
}

void OnEdge(uv_poll_t* h, int status, int) {
  EdgeWatch* ew = static_cast<EdgeWatch*>(h->data);
  Watches* ws = watches;
  int ev = TakeEdge(ew->epfd);
  if (!ws || ws->dispatch.IsEmpty() || (ev == 0 && status >= 0)) return;
  Dispatch(ws, ew->id, kEdgeReport | ev);
}

void CloseEdges(Watch* w) {
  EdgeWatch* ew = w->edges;
  if (!ew) return;
  w->edges = nullptr;
  uv_poll_stop(&ew->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&ew->handle), [](uv_handle_t* h) {
    EdgeWatch* e = static_cast<EdgeWatch*>(h->data);
    close(e->epfd);
    delete e;
  });
}

// fdWatchInit(dispatch: (id, events) => void): the function every watch reports to.
Napi::Value FdWatchInit(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) Usage(info.Env(), "fdWatchInit(dispatch: (id, events) => void)");
  if (!watches) {
    watches = new Watches();
    watches->env = info.Env();
    napi_add_env_cleanup_hook(
        info.Env(),
        [](void*) {
          // The loop is going away with the environment: handles are closed by it.
          watches = nullptr;
        },
        nullptr);
  }
  watches->dispatch = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// fdWatch(fd) -> a watch id | -errno: a disarmed watch of fd.
Napi::Value FdWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fdWatch(fd: number)");
  if (!watches) throw Napi::Error::New(env, "fdWatch: call fdWatchInit first");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) throw Napi::Error::New(env, "fdWatch: no loop");
  Watch* w = new Watch();
  int r = uv_poll_init(loop, &w->handle, fd);
  if (r < 0) {
    delete w;
    return Napi::Number::New(env, r);  // libuv errors are -errno on Linux
  }
  w->handle.data = w;
  w->id = watches->next++;
  w->fd = fd;
  uv_unref(reinterpret_cast<uv_handle_t*>(&w->handle));
  watches->byId[w->id] = w;
  return Napi::Number::New(env, w->id);
}

// fdWatchArm(id, events): one report when fd has any of `events` (1 readable, 2 writable,
// 4 hung up, 8 priority data); 0 disarms. Returns 0 or -errno (-EBADF for an unknown id).
Napi::Value FdWatchArm(const Napi::CallbackInfo& info) {
  const char* u = "fdWatchArm(id: number, events: number)";
  int id = IntArg(info, 0, u), ev = IntArg(info, 1, u);
  if (!watches) return Napi::Number::New(info.Env(), -EBADF);
  auto it = watches->byId.find(id);
  if (it == watches->byId.end()) return Napi::Number::New(info.Env(), -EBADF);
  uv_poll_t* h = &it->second->handle;
  const int known = UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED;
  int r = ev == 0 ? uv_poll_stop(h) : uv_poll_start(h, ev & known, OnPoll);
  return Napi::Number::New(info.Env(), r);
}

// fdWatchEdges(id, events): from now on a report (events | 1 << 30) at each wakeup of the fd by
// any of `events` (EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLRDHUP; errors and hang-ups always), until
// events 0. Whether the fd is ready when this is called is not reported. Returns 0 or -errno.
Napi::Value FdWatchEdges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* u = "fdWatchEdges(id: number, events: number)";
  int id = IntArg(info, 0, u), ev = IntArg(info, 1, u) & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP);
  if (!watches) return Napi::Number::New(env, -EBADF);
  auto it = watches->byId.find(id);
  if (it == watches->byId.end()) return Napi::Number::New(env, -EBADF);
  Watch* w = it->second;
  if (ev == 0) {
    CloseEdges(w);
    return Napi::Number::New(env, 0);
  }
  epoll_event e{};
  e.events = static_cast<uint32_t>(ev) | EPOLLET;
  if (!w->edges) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) throw Napi::Error::New(env, "fdWatchEdges: no loop");
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return Napi::Number::New(env, -errno);
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &e) < 0) {
      int err = errno;
      close(epfd);
      return Napi::Number::New(env, -err);
    }
    EdgeWatch* ew = new EdgeWatch{uv_poll_t{}, epfd, id};
    int r = uv_poll_init(loop, &ew->handle, epfd);
    if (r < 0) {
      close(epfd);
      delete ew;
      return Napi::Number::New(env, r);
    }
    ew->handle.data = ew;
    uv_unref(reinterpret_cast<uv_handle_t*>(&ew->handle));
    uv_poll_start(&ew->handle, UV_READABLE, OnEdge);
    w->edges = ew;
  } else if (epoll_ctl(w->edges->epfd, EPOLL_CTL_MOD, w->fd, &e) < 0) {
    return Napi::Number::New(env, -errno);
  }
  // Registering queues the fd at once when it is ready: that is no wakeup.
  TakeEdge(w->edges->epfd);
  return Napi::Number::New(env, 0);
}

// fdUnwatch(id): ends the watch; call it before closing the fd.
Napi::Value FdUnwatch(const Napi::CallbackInfo& info) {
  int id = IntArg(info, 0, "fdUnwatch(id: number)");
  if (!watches) return info.Env().Undefined();
  auto it = watches->byId.find(id);
  if (it == watches->byId.end()) return info.Env().Undefined();
  Watch* w = it->second;
  watches->byId.erase(it);
  CloseEdges(w);
  uv_poll_stop(&w->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->handle), [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
  return info.Env().Undefined();
}

}  // namespace

// Adds the host socket functions to the addon's exports (called from addon.cc's constructor).
void DefineHostSocket(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  const Entry entries[] = {
      {"sockSocket", SockSocket},   {"sockBind", SockBind},         {"sockConnect", SockConnect},
      {"sockListen", SockListen},   {"sockAccept", SockAccept},     {"sockName", SockName},
      {"sockSend", SockSend},       {"sockRecv", SockRecv},         {"sockSetOpt", SockSetOpt},
      {"sockGetOpt", SockGetOpt},   {"sockShutdown", SockShutdown}, {"ioctlInt", IoctlInt},
      {"fdPoll", FdPoll},           {"fdWatchInit", FdWatchInit},   {"fdWatch", FdWatch},
      {"fdWatchArm", FdWatchArm},   {"fdWatchEdges", FdWatchEdges}, {"fdUnwatch", FdUnwatch},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}
