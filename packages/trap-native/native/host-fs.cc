// Host filesystem calls node:fs has no binding for, for hostfs volumes: mknodat(2), renameat2(2),
// the extended attribute calls, lseek(2) with SEEK_END/SEEK_DATA/SEEK_HOLE and fallocate(2).
//
// Each call names at most one component `name` inside a directory the caller holds open as
// `dirFd`, never a path: a name that is empty, "." or "..", or holds '/' or NUL is refused with
// -EINVAL before any host call, so nothing the sandbox wrote can walk the host's tree. The xattr
// calls go through "/proc/self/fd/<dirFd>/<name>" with the l* variants, so a final symlink is
// never followed (the magic link itself resolves to exactly the directory held open); with a
// null name they are the f* variants on the directory fd. mknodat makes no device nodes (EPERM):
// one left in a host directory would hand the device to host users. Names are VFS byte strings:
// JS strings of code points 0-255, converted as Latin-1. Each call returns its result or -errno
// and never throws for a host failure; wrong argument shapes throw a "Usage: ..." TypeError.

#include <napi.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdio.h>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void Usage(Napi::Env env, const char* text) {
  throw Napi::TypeError::New(env, std::string("Usage: ") + text);
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsNumber()) Usage(info.Env(), usage);
  return info[i].As<Napi::Number>().Int32Value();
}

double NumArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsNumber()) Usage(info.Env(), usage);
  return info[i].As<Napi::Number>().DoubleValue();
}

// A string argument as Latin-1 bytes (VFS byte strings); `optional` allows null (returns false).
bool Latin1Arg(const Napi::CallbackInfo& info, size_t i, bool optional, std::string* out, const char* usage) {
  if (optional && info.Length() > i && info[i].IsNull()) return false;
  if (info.Length() <= i || !info[i].IsString()) Usage(info.Env(), usage);
  napi_env env = info.Env();
  size_t len = 0;
  if (napi_get_value_string_latin1(env, info[i], nullptr, 0, &len) != napi_ok) Usage(env, usage);
  out->assign(len + 1, '\0');
  if (napi_get_value_string_latin1(env, info[i], out->data(), len + 1, &len) != napi_ok) Usage(env, usage);
  out->resize(len);
  return true;
}

Napi::Value Latin1String(Napi::Env env, const char* p, size_t n) {
  napi_value v;
  if (napi_create_string_latin1(env, p, n, &v) != napi_ok) throw Napi::Error::New(env, "string");
  return Napi::Value(env, v);
}

Napi::Value Result(Napi::Env env, long r) {
  return Napi::Number::New(env, r < 0 ? -errno : static_cast<double>(r));
}

Napi::Value Errno(Napi::Env env, int e) { return Napi::Number::New(env, -e); }

// One directory entry name: not empty, ".", "..", and no '/' or NUL.
bool OneComponent(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

// "/proc/self/fd/<dirFd>/<name>", the name checked to be one component.
bool ProcPath(int dirFd, const std::string& name, std::string* out) {
  if (dirFd < 0 || !OneComponent(name)) return false;
  *out = "/proc/self/fd/" + std::to_string(dirFd) + "/" + name;
  return true;
}

// An attribute name: not empty and no NUL (the host kernel checks the rest).
bool AttrName(const std::string& attr) { return !attr.empty() && attr.find('\0') == std::string::npos; }

// hostMknodat(dirFd, name, mode, dev) -> 0 | -errno
Napi::Value HostMknodat(const Napi::CallbackInfo& info) {
  const char* u = "hostMknodat(dirFd: number, name: string, mode: number, dev: number)";
  int dirFd = IntArg(info, 0, u);
  std::string name;
  Latin1Arg(info, 1, false, &name, u);
  int mode = IntArg(info, 2, u);
  double dev = NumArg(info, 3, u);
  if (!OneComponent(name) || dev < 0) return Errno(info.Env(), EINVAL);
  // No device nodes on the host: the sandbox opens its own devices, never a host node, but a
  // node left in a host directory would give host users the device (gVisor's gofer refuses too).
  if (S_ISCHR(mode) || S_ISBLK(mode)) return Errno(info.Env(), EPERM);
  return Result(info.Env(), mknodat(dirFd, name.c_str(), static_cast<mode_t>(mode), static_cast<dev_t>(dev)));
}

// hostRenameat2(oldDirFd, oldName, newDirFd, newName, flags) -> 0 | -errno
Napi::Value HostRenameat2(const Napi::CallbackInfo& info) {
  const char* u = "hostRenameat2(oldDirFd: number, oldName: string, newDirFd: number, newName: string, flags: number)";
  int oldFd = IntArg(info, 0, u);
  std::string oldName, newName;
  Latin1Arg(info, 1, false, &oldName, u);
  int newFd = IntArg(info, 2, u);
  Latin1Arg(info, 3, false, &newName, u);
  unsigned flags = static_cast<unsigned>(IntArg(info, 4, u));
  if (!OneComponent(oldName) || !OneComponent(newName)) return Errno(info.Env(), EINVAL);
  return Result(info.Env(), renameat2(oldFd, oldName.c_str(), newFd, newName.c_str(), flags));
}

// The target of an xattr call: (fd, nullptr) for the directory itself, else (-1, proc path).
struct XattrTarget {
  int fd = -1;
  std::string path;
  bool ok = false;
};

XattrTarget TargetArgs(const Napi::CallbackInfo& info, const char* u) {
  XattrTarget t;
  int dirFd = IntArg(info, 0, u);
  std::string name;
  if (!Latin1Arg(info, 1, true, &name, u)) {
    t.fd = dirFd;
    t.ok = dirFd >= 0;
    return t;
  }
  t.ok = ProcPath(dirFd, name, &t.path);
  return t;
}

ssize_t GetX(const XattrTarget& t, const char* attr, void* buf, size_t n) {
  return t.fd >= 0 ? fgetxattr(t.fd, attr, buf, n) : lgetxattr(t.path.c_str(), attr, buf, n);
}

ssize_t ListX(const XattrTarget& t, char* buf, size_t n) {
  return t.fd >= 0 ? flistxattr(t.fd, buf, n) : llistxattr(t.path.c_str(), buf, n);
}

// hostGetxattr(dirFd, name | null, attr) -> Uint8Array | -errno
Napi::Value HostGetxattr(const Napi::CallbackInfo& info) {
  const char* u = "hostGetxattr(dirFd: number, name: string | null, attr: string)";
  XattrTarget t = TargetArgs(info, u);
  std::string attr;
  Latin1Arg(info, 2, false, &attr, u);
  if (!t.ok || !AttrName(attr)) return Errno(info.Env(), EINVAL);
  // The value can change size between the query and the read: retry on ERANGE.
  for (int tries = 0; tries < 8; tries++) {
    ssize_t n = GetX(t, attr.c_str(), nullptr, 0);
    if (n < 0) return Errno(info.Env(), errno);
    std::vector<uint8_t> buf(static_cast<size_t>(n) + 1);
    ssize_t m = GetX(t, attr.c_str(), buf.data(), buf.size());
    if (m < 0 && errno == ERANGE) continue;
    if (m < 0) return Errno(info.Env(), errno);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), static_cast<size_t>(m));
  }
  return Errno(info.Env(), ERANGE);
}

// hostSetxattr(dirFd, name | null, attr, value, flags) -> 0 | -errno
Napi::Value HostSetxattr(const Napi::CallbackInfo& info) {
  const char* u = "hostSetxattr(dirFd: number, name: string | null, attr: string, value: Uint8Array, flags: number)";
  XattrTarget t = TargetArgs(info, u);
  std::string attr;
  Latin1Arg(info, 2, false, &attr, u);
  if (info.Length() <= 3 || !info[3].IsTypedArray()) Usage(info.Env(), u);
  auto a = info[3].As<Napi::TypedArray>();
  if (a.TypedArrayType() != napi_uint8_array) Usage(info.Env(), u);
  auto value = a.As<Napi::Uint8Array>();
  int flags = IntArg(info, 4, u);
  if (!t.ok || !AttrName(attr)) return Errno(info.Env(), EINVAL);
  int r = t.fd >= 0 ? fsetxattr(t.fd, attr.c_str(), value.Data(), value.ByteLength(), flags)
                    : lsetxattr(t.path.c_str(), attr.c_str(), value.Data(), value.ByteLength(), flags);
  return Result(info.Env(), r);
}

// hostListxattr(dirFd, name | null) -> string[] | -errno
Napi::Value HostListxattr(const Napi::CallbackInfo& info) {
  const char* u = "hostListxattr(dirFd: number, name: string | null)";
  XattrTarget t = TargetArgs(info, u);
  if (!t.ok) return Errno(info.Env(), EINVAL);
  for (int tries = 0; tries < 8; tries++) {
    ssize_t n = ListX(t, nullptr, 0);
    if (n < 0) return Errno(info.Env(), errno);
    std::vector<char> buf(static_cast<size_t>(n) + 1);
    ssize_t m = ListX(t, buf.data(), buf.size());
    if (m < 0 && errno == ERANGE) continue;
    if (m < 0) return Errno(info.Env(), errno);
    Napi::Array names = Napi::Array::New(info.Env());
    uint32_t k = 0;
    for (ssize_t i = 0; i < m;) {
      size_t len = strnlen(buf.data() + i, static_cast<size_t>(m - i));
      if (len > 0) names.Set(k++, Latin1String(info.Env(), buf.data() + i, len));
      i += static_cast<ssize_t>(len) + 1;
    }
    return names;
  }
  return Errno(info.Env(), ERANGE);
}

// hostRemovexattr(dirFd, name | null, attr) -> 0 | -errno
Napi::Value HostRemovexattr(const Napi::CallbackInfo& info) {
  const char* u = "hostRemovexattr(dirFd: number, name: string | null, attr: string)";
  XattrTarget t = TargetArgs(info, u);
  std::string attr;
  Latin1Arg(info, 2, false, &attr, u);
  if (!t.ok || !AttrName(attr)) return Errno(info.Env(), EINVAL);
  int r = t.fd >= 0 ? fremovexattr(t.fd, attr.c_str()) : lremovexattr(t.path.c_str(), attr.c_str());
  return Result(info.Env(), r);
}

// hostLseek(fd, offset, whence) -> offset | -errno (offsets beyond 2^53 lose precision)
Napi::Value HostLseek(const Napi::CallbackInfo& info) {
  const char* u = "hostLseek(fd: number, offset: number, whence: number)";
  int fd = IntArg(info, 0, u);
  double off = NumArg(info, 1, u);
  int whence = IntArg(info, 2, u);
  off_t r = lseek(fd, static_cast<off_t>(off), whence);
  return Result(info.Env(), r);
}

// hostFallocate(fd, mode, offset, len) -> 0 | -errno
Napi::Value HostFallocate(const Napi::CallbackInfo& info) {
  const char* u = "hostFallocate(fd: number, mode: number, offset: number, len: number)";
  int fd = IntArg(info, 0, u);
  int mode = IntArg(info, 1, u);
  double off = NumArg(info, 2, u), len = NumArg(info, 3, u);
  return Result(info.Env(), fallocate(fd, mode, static_cast<off_t>(off), static_cast<off_t>(len)));
}

}  // namespace

// Adds the host filesystem functions to the addon's exports (called from addon.cc's constructor).
void DefineHostFs(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  const Entry entries[] = {
      {"hostMknodat", HostMknodat},         {"hostRenameat2", HostRenameat2}, {"hostGetxattr", HostGetxattr},
      {"hostSetxattr", HostSetxattr},       {"hostListxattr", HostListxattr}, {"hostRemovexattr", HostRemovexattr},
      {"hostLseek", HostLseek},             {"hostFallocate", HostFallocate},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}
