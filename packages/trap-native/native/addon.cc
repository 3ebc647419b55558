// trap_native: the ptrace platform of tsvisor (see ../README.md for the design).
//
// Policy-free: this file creates stub processes, runs them until their next event under
// PTRACE_SYSEMU, moves registers and memory, and runs host system calls inside them. What a
// system call means, which memory to map and which signal to deliver is decided in TypeScript.
//
// Threading: the thread that loads the addon (Node's main thread) is the tracer. It issues every
// ptrace request. It waits for a task with a plain blocking waitpid(tid, __WALL); a watchdog
// thread bounds that wait: when one wait outlasts the budget it sends the *tracee* a real-time
// signal (rt_tgsigqueueinfo, tagged with a random cookie), the tracee stops, and the tracer absorbs that stop (the signal is never
// delivered). No timer is armed per wait (re-arming an hrtimer costs a VM exit here, about 4 µs
// each way) and no signal handler is installed in Node. The timed-out wait then moves to a helper
// thread (waitpid on a tracee of another thread of the same thread group is allowed), which hands
// the status back through a thread-safe function. waitpid(-1) is never used, so libuv keeps
// reaping the children of child_process.
//
// Leaders: the host reports a thread-group leader's death only once every other thread of its
// process is reaped. A wait for a leader must therefore never be the only thing that could reap
// them: kill() reaps every thread before the leader (running ones included), exit is never
// injected into a leader that has threads, and when a leader dies from outside while the tracer
// waits for it, the watchdog reaps its dead threads (ReapLeaderSiblings).

#include <napi.h>

#include <cerrno>
#include <atomic>
#include <condition_variable>
#include <linux/futex.h>
#include <cpuid.h>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <linux/elf.h>
#include <memory>
#include <mutex>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace {

// Layout of the stub (native/stub.ld). The gadget is `syscall; int3`.
constexpr uint64_t kStubBase = 0x7ffffff00000ULL;
constexpr uint64_t kStubGadget = kStubBase;
constexpr uint64_t kStubScratch = kStubBase + 0x1000;
constexpr uint64_t kStubEnd = kStubBase + 0x2000;
constexpr uint64_t kUserEnd = 0x800000000000ULL;

// Event codes shared with src/native.native.ts.
enum EventCode : int {
  kPending = 0,
  kSyscall = 1,
  kFault = 2,
  kSignal = 3,
  kExited = 4,
  kKilled = 5,
};
constexpr int kContinue = -1;  // internal: a stop the platform absorbs (group-stop, stray event)

constexpr int kInfoLen = 8;
constexpr int kRegCount = sizeof(user_regs_struct) / sizeof(uint64_t);
static_assert(kRegCount == 27, "user_regs_struct layout");

// The signal the watchdog sends to a tracee whose wait ran out; the tracer absorbs it.
int WakeSignal() { return SIGRTMAX - 1; }

// The calling thread's id, asked of the host once per thread (every addon call checks it).
pid_t CurrentTid() {
  thread_local pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  return tid;
}

enum class State { Stopped, Running, Dead };

// An event that happened while the platform held the task (a death during an injected call, a
// signal stop absorbed during an injected call); the next resume reports it first.
struct Pending {
  int code = 0;
  double info[kInfoLen] = {};
};

struct Task {
  pid_t tid = 0;
  pid_t tgid = 0;
  int sandbox = 0;
  State state = State::Stopped;
  bool regsValid = false;
  user_regs_struct regs{};
  std::deque<Pending> pending;
  // The death of a running task that the tracer reaped itself after a kill (ReapAfterKill): the
  // helper thread's result for it, still to come, reports this instead.
  bool deathReaped = false;
  int deathStatus = 0;
  // Released from its sandbox's CPU while it computes past the wait budget (see Spread).
  bool spread = false;
};

struct Sandbox {
  int ctlFd = -1;     // supervisor end of the fd-passing socket
  int stubEnd = -1;   // the stub's end, kept to drain a message the stub failed to receive
  int stubCtlFd = -1;  // its number inside the stub
  bool pidns = false;
  pid_t init = 0;
  int cpu = -1;  // the CPU its tasks are pinned to, or -1
};

struct AsyncResult {
  pid_t tid;
  int status;
  int err;
};

class Addon;

}  // namespace

// native/host-socket.cc: the host socket functions of network mode `host`.
void DefineHostSocket(Napi::Env env, Napi::Object exports);
// native/host-fs.cc: mknodat, renameat2, xattrs, lseek and fallocate for hostfs volumes.
void DefineHostFs(Napi::Env env, Napi::Object exports);

namespace {

// One helper thread that waits for one running task at a time.
struct Waiter {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  pid_t job = 0;
  bool quit = false;
  bool busy = false;
};

void CallOnAsync(Napi::Env env, Napi::Function fn, Addon* self, AsyncResult* r);
using Tsfn = Napi::TypedThreadSafeFunction<Addon, AsyncResult, CallOnAsync>;

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  [[noreturn]] void Throw(Napi::Env env, const char* code, const std::string& message);
  [[noreturn]] void ThrowErrno(Napi::Env env, int err, const std::string& what);

  // ---- JS entry points ----
  Napi::Value InitPlatform(const Napi::CallbackInfo& info);
  Napi::Value SpawnStub(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value GetRegs(const Napi::CallbackInfo& info);
  Napi::Value CpuTicks(const Napi::CallbackInfo& info);
  Napi::Value ClockOffset(const Napi::CallbackInfo& info);
  Napi::Value SetRegs(const Napi::CallbackInfo& info);
  Napi::Value SetSyscallResult(const Napi::CallbackInfo& info);
  Napi::Value SyncRegs(const Napi::CallbackInfo& info);
  void PutRegs(Napi::Env env, Task& t, const user_regs_struct& r);
  uint8_t* RegsArg(const Napi::CallbackInfo& info, const char* usage);
  Napi::Value GetFpRegs(const Napi::CallbackInfo& info);
  Napi::Value SetFpRegs(const Napi::CallbackInfo& info);
  Napi::Value ReadMemory(const Napi::CallbackInfo& info);
  Napi::Value WriteMemory(const Napi::CallbackInfo& info);
  Napi::Value ReadMemoryv(const Napi::CallbackInfo& info);
  Napi::Value WriteMemoryv(const Napi::CallbackInfo& info);
  Napi::Value HostSyscall(const Napi::CallbackInfo& info);
  Napi::Value HostClone(const Napi::CallbackInfo& info);
  Napi::Value PassFd(const Napi::CallbackInfo& info);
  Napi::Value Kill(const Napi::CallbackInfo& info);
  Napi::Value KillSandbox(const Napi::CallbackInfo& info);
  Napi::Value Forget(const Napi::CallbackInfo& info);
  Napi::Value ReapStopped(const Napi::CallbackInfo& info);
  Napi::Value TaskInfo(const Napi::CallbackInfo& info);
  Napi::Value Affinity(const Napi::CallbackInfo& info);
  Napi::Value MemfdCreate(const Napi::CallbackInfo& info);
  Napi::Value MemfdAddSeals(const Napi::CallbackInfo& info);

  // ---- helpers ----
  void CheckTracer(Napi::Env env);
  Task& TaskArg(const Napi::CallbackInfo& info, size_t i);
  Task& StoppedTaskArg(const Napi::CallbackInfo& info, size_t i);
  void EnsureRegs(Napi::Env env, Task& t);
  int ProcessStatus(Task& t, int status);
  void WriteInfo(int code, const double* values, int n);
  int TimedWait(pid_t tid, pid_t tgid, int64_t budgetUs, int* status);
  bool IsWake(pid_t tid, int status);
  void WatchdogLoop();
  void ReapLeaderSiblings(pid_t tgid, pid_t leader);
  void DrainOrphans();
  bool HasSiblings(const Task& t);
  uint64_t BeginLeaderWait(const Task& t);
  void EndLeaderWait(uint64_t armed);
  void DispatchWait(pid_t tid);
  void WaiterLoop(Waiter* w);
  static void OnAsync(Napi::Env env, Napi::Function fn, Addon* self, AsyncResult* r);
  void HandleAsync(Napi::Env env, AsyncResult* r);
  void Spread(Task& t);
  void Repin(Task& t);
  int64_t Inject(Napi::Env env, Task& t, uint64_t nr, const uint64_t* args, pid_t* child, bool* isThread);
  pid_t AdoptChild(Napi::Env env, Task& parent, pid_t child, bool thread);
  void ReapAfterKill(Napi::Env env, const std::vector<pid_t>& tids);
  void KillAll();
  void EraseTask(pid_t tid);


 private:
  Napi::Env env_;
  pid_t tracerTid_ = 0;
  bool initialized_ = false;
  Napi::FunctionReference trapError_;
  Napi::FunctionReference onEvent_;
  Napi::Reference<Napi::Float64Array> infoRef_;
  double* info_ = nullptr;
  // Watchdog of the tracer's blocking waits (see the top comment).
  std::thread watchdog_;
  std::atomic<uint64_t> watchTarget_{0};  // (tgid << 32) | tid of the wait in progress, or 0
  std::atomic<uint64_t> watchSeq_{0};     // counts waits
  std::atomic<int64_t> watchTickUs_{500};
  std::atomic<int> watchSleeping_{0};     // futex word: 1 while the watchdog sleeps untimed
  std::atomic<bool> watchQuit_{false};
  // A wait of the tracer for a thread-group leader that has other threads ((tgid << 32) | tid, or
  // 0), and a count of such waits. If that leader dies (killed from outside while its threads are
  // stopped), the host reports it only once those threads are reaped, and this thread, the only
  // one that would, is the one waiting: the watchdog then reaps them (see ReapLeaderSiblings).
  std::atomic<uint64_t> leaderWait_{0};
  std::atomic<uint64_t> leaderWaitSeq_{0};
  // Deaths the watchdog reaped (tid, wait status), taken into tasks_ by the tracer (DrainOrphans).
  std::mutex orphanMu_;
  std::vector<std::pair<pid_t, int>> orphans_;
  std::atomic<bool> haveOrphans_{false};
  pid_t selfPid_ = 0;
  uint64_t wakeCookie_ = 0;  // si_value of the watchdog's signal: identifies it in any namespace
  bool IsOurWake(int sig, const siginfo_t& si) const {
    return sig == WakeSignal() && si.si_code == SI_QUEUE && reinterpret_cast<uint64_t>(si.si_value.sival_ptr) == wakeCookie_;
  }
  Tsfn tsfn_;
  int asyncOutstanding_ = 0;
  std::vector<std::unique_ptr<Waiter>> waiters_;
  std::unordered_map<pid_t, Task> tasks_;
  std::unordered_map<int, Sandbox> sandboxes_;
  int nextSandbox_ = 1;
  size_t xstateSize_ = 0;
  cpu_set_t savedAffinity_{};
  bool affinitySaved_ = false;
};

// ---------------------------------------------------------------------------------------------
// Argument helpers

// A 64-bit register or argument value: a number (integer, signed values allowed and stored in
// two's complement) or a bigint (taken modulo 2^64).
bool ToRaw64(const Napi::Value& v, uint64_t* out) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != d || __builtin_trunc(d) != d) return false;  // NaN, fractions, infinities
    if (d >= 0) {
      if (d >= 18446744073709551616.0) return false;
      *out = static_cast<uint64_t>(d);
    } else {
      if (d < -9223372036854775808.0) return false;
      *out = static_cast<uint64_t>(static_cast<int64_t>(d));
    }
    return true;
  }
  if (v.IsBigInt()) {
    int sign = 0;
    size_t words = 1;
    uint64_t w = 0;
    v.As<Napi::BigInt>().ToWords(&sign, &words, &w);
    *out = sign ? (~w + 1) : w;
    return true;
  }
  return false;
}

double Signed(uint64_t v) { return static_cast<double>(static_cast<int64_t>(v)); }

// ---------------------------------------------------------------------------------------------

Addon::Addon(Napi::Env env, Napi::Object exports) : env_(env) {
  tracerTid_ = static_cast<pid_t>(syscall(SYS_gettid));
  DefineAddon(exports, {
                           InstanceMethod("init", &Addon::InitPlatform),
                           InstanceMethod("spawnStub", &Addon::SpawnStub),
                           InstanceMethod("resume", &Addon::Resume),
                           InstanceMethod("getRegs", &Addon::GetRegs),
                           InstanceMethod("cpuTicks", &Addon::CpuTicks),
                           InstanceMethod("clockOffset", &Addon::ClockOffset),
                           InstanceMethod("setRegs", &Addon::SetRegs),
                           InstanceMethod("setSyscallResult", &Addon::SetSyscallResult),
                           InstanceMethod("syncRegs", &Addon::SyncRegs),
                           InstanceMethod("getFpRegs", &Addon::GetFpRegs),
                           InstanceMethod("setFpRegs", &Addon::SetFpRegs),
                           InstanceMethod("readMemory", &Addon::ReadMemory),
                           InstanceMethod("writeMemory", &Addon::WriteMemory),
                           InstanceMethod("readMemoryv", &Addon::ReadMemoryv),
                           InstanceMethod("writeMemoryv", &Addon::WriteMemoryv),
                           InstanceMethod("hostSyscall", &Addon::HostSyscall),
                           InstanceMethod("hostClone", &Addon::HostClone),
                           InstanceMethod("passFd", &Addon::PassFd),
                           InstanceMethod("kill", &Addon::Kill),
                           InstanceMethod("killSandbox", &Addon::KillSandbox),
                           InstanceMethod("forget", &Addon::Forget),
                           InstanceMethod("reapStopped", &Addon::ReapStopped),
                           InstanceMethod("taskInfo", &Addon::TaskInfo),
                           InstanceMethod("affinity", &Addon::Affinity),
                           InstanceMethod("memfdCreate", &Addon::MemfdCreate),
                           InstanceMethod("memfdAddSeals", &Addon::MemfdAddSeals),
                       });
  DefineHostSocket(env, exports);
  DefineHostFs(env, exports);
}

Addon::~Addon() {
  KillAll();
  for (auto& w : waiters_) {
    {
      std::lock_guard<std::mutex> lk(w->mu);
      w->quit = true;
    }
    w->cv.notify_one();
  }
  for (auto& w : waiters_) {
    // A waiter blocked in waitpid returns once KillAll's SIGKILL lands.
    if (w->thread.joinable()) w->thread.join();
  }
  if (initialized_) tsfn_.Release();
  if (watchdog_.joinable()) {
    watchQuit_ = true;
    watchSleeping_ = 0;
    syscall(SYS_futex, reinterpret_cast<int*>(&watchSleeping_), FUTEX_WAKE, 1, nullptr, nullptr, 0);
    watchdog_.join();
  }
  for (auto& [id, sb] : sandboxes_) {
    if (sb.ctlFd >= 0) close(sb.ctlFd);
    if (sb.stubEnd >= 0) close(sb.stubEnd);
  }
}

void Addon::Throw(Napi::Env env, const char* code, const std::string& message) {
  if (trapError_.IsEmpty()) throw Napi::Error::New(env, std::string(code) + ": " + message);
  Napi::Object err = trapError_.New({Napi::String::New(env, code), Napi::String::New(env, message)});
  throw Napi::Error(env, err);
}

void Addon::ThrowErrno(Napi::Env env, int err, const std::string& what) {
  const char* name = strerrorname_np(err);
  Throw(env, name ? name : "EIO", what + ": " + strerror(err));
}

void Addon::CheckTracer(Napi::Env env) {
  if (!initialized_) Throw(env, "EINVAL", "Usage: call init() first");
  if (CurrentTid() != tracerTid_) Throw(env, "EPERM", "only the thread that loaded the addon may trace");
}

Task& Addon::TaskArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  CheckTracer(env);
  if (haveOrphans_.load(std::memory_order_relaxed)) DrainOrphans();
  if (info.Length() <= i || !info[i].IsNumber()) Throw(env, "EINVAL", "Usage: task handle (a tid number) expected");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d > 0 && d < 4194305 && d == static_cast<double>(static_cast<int>(d))))
    Throw(env, "ESRCH", "no such task: " + std::to_string(d));
  auto it = tasks_.find(static_cast<pid_t>(d));
  if (it == tasks_.end()) Throw(env, "ESRCH", "no such task: " + std::to_string(static_cast<int>(d)));
  return it->second;
}

Task& Addon::StoppedTaskArg(const Napi::CallbackInfo& info, size_t i) {
  Task& t = TaskArg(info, i);
  if (t.state == State::Running) Throw(info.Env(), "EBUSY", "task " + std::to_string(t.tid) + " is running");
  if (t.state == State::Dead) Throw(info.Env(), "ESRCH", "task " + std::to_string(t.tid) + " has exited");
  if (!t.pending.empty() && t.pending.front().code >= kExited)
    Throw(info.Env(), "ESRCH", "task " + std::to_string(t.tid) + " has exited");
  return t;
}

void Addon::EnsureRegs(Napi::Env env, Task& t) {
  if (t.regsValid) return;
  if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &t.regs) < 0) ThrowErrno(env, errno, "PTRACE_GETREGS");
  t.regsValid = true;
}

void Addon::WriteInfo(int code, const double* values, int n) {
  info_[0] = code;
  for (int i = 1; i < kInfoLen; i++) info_[i] = i - 1 < n ? values[i - 1] : 0;
}

// Turns a wait status into an event; fills the shared info array. Called on the tracer thread.
int Addon::ProcessStatus(Task& t, int status) {
  double v[kInfoLen - 1] = {};
  if (WIFEXITED(status)) {
    t.state = State::Dead;
    v[0] = WEXITSTATUS(status);
    WriteInfo(kExited, v, 1);
    return kExited;
  }
  if (WIFSIGNALED(status)) {
    t.state = State::Dead;
    v[0] = WTERMSIG(status);
    v[1] = WCOREDUMP(status) ? 1 : 0;
    WriteInfo(kKilled, v, 2);
    return kKilled;
  }
  if (!WIFSTOPPED(status)) return kContinue;
  t.state = State::Stopped;
  int sig = WSTOPSIG(status);
  if (sig == (SIGTRAP | 0x80)) {
    t.regsValid = ptrace(PTRACE_GETREGS, t.tid, nullptr, &t.regs) == 0;
    if (!t.regsValid) return kContinue;
    const user_regs_struct& r = t.regs;
    v[0] = Signed(r.orig_rax);
    v[1] = Signed(r.rdi);
    v[2] = Signed(r.rsi);
    v[3] = Signed(r.rdx);
    v[4] = Signed(r.r10);
    v[5] = Signed(r.r8);
    v[6] = Signed(r.r9);
    WriteInfo(kSyscall, v, 7);
    return kSyscall;
  }
  if ((status >> 16) != 0) return kContinue;  // a ptrace event stop nobody asked for
  siginfo_t si;
  if (ptrace(PTRACE_GETSIGINFO, t.tid, nullptr, &si) < 0) return kContinue;  // group-stop
  if (IsOurWake(sig, si)) return kContinue;  // the watchdog's
  t.regsValid = ptrace(PTRACE_GETREGS, t.tid, nullptr, &t.regs) == 0;
  bool fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) && si.si_code > 0;
  v[0] = sig;
  v[1] = si.si_code;
  if (fault) {
    v[2] = static_cast<double>(reinterpret_cast<uintptr_t>(si.si_addr));
    WriteInfo(kFault, v, 3);
    return kFault;
  }
  v[2] = si.si_pid;
  v[3] = si.si_uid;
  WriteInfo(kSignal, v, 4);
  return kSignal;
}

// True for a stop caused by the watchdog's signal (tagged with this addon's cookie).
bool Addon::IsWake(pid_t tid, int status) {
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != WakeSignal() || (status >> 16) != 0) return false;
  siginfo_t si;
  if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &si) < 0) return false;
  return IsOurWake(WSTOPSIG(status), si);
}

void Addon::WatchdogLoop() {
  uint64_t lastSeq = ~0ULL;
  // The wait already sent a wake signal: real-time signals queue, so a second one (a tracee
  // slow to take the first on a busy CPU) would stop it again later, with nobody waiting.
  uint64_t signaledSeq = ~0ULL;
  uint64_t leaderSeq = 0;
  int leaderTicks = 0;
  int idle = 0;
  while (!watchQuit_) {
    uint64_t lw = leaderWait_.load();
    if (lw != 0) {
      // A wait for a leader that lasts a few ticks: if the leader is dead, reap its threads.
      uint64_t ls = leaderWaitSeq_.load();
      if (ls != leaderSeq) {
        leaderSeq = ls;
        leaderTicks = 0;
      } else if (++leaderTicks >= 4) {
        ReapLeaderSiblings(static_cast<pid_t>(lw >> 32), static_cast<pid_t>(lw & 0xffffffffU));
        leaderTicks = 0;
      }
      idle = 0;
    }
    if (idle >= 64) {
      // Nothing traced for a while: sleep until the tracer starts a wait.
      watchSleeping_ = 1;
      if (watchTarget_.load() == 0 && leaderWait_.load() == 0 && !watchQuit_)
        syscall(SYS_futex, reinterpret_cast<int*>(&watchSleeping_), FUTEX_WAIT, 1, nullptr, nullptr, 0);
      watchSleeping_ = 0;
      idle = 0;
      lastSeq = ~0ULL;
      continue;
    }
    int64_t tick = watchTickUs_.load();
    timespec ts{static_cast<time_t>(tick / 1000000), static_cast<long>((tick % 1000000) * 1000)};
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
    uint64_t target = watchTarget_.load();
    uint64_t seq = watchSeq_.load();
    if (target == 0) {
      idle++;
      lastSeq = ~0ULL;
      continue;
    }
    idle = 0;
    if (seq == lastSeq && seq != signaledSeq) {
      // The same wait has lasted at least a whole tick: stop the tracee so the wait returns.
      signaledSeq = seq;
      siginfo_t info{};
      info.si_signo = WakeSignal();
      info.si_code = SI_QUEUE;
      info.si_pid = selfPid_;
      info.si_uid = getuid();
      info.si_value.sival_ptr = reinterpret_cast<void*>(wakeCookie_);
      syscall(SYS_rt_tgsigqueueinfo, static_cast<pid_t>(target >> 32), static_cast<pid_t>(target & 0xffffffffU), WakeSignal(), &info);
      lastSeq = ~0ULL;
    } else {
      lastSeq = seq;
    }
  }
}

// Runs on the watchdog thread while the tracer waits for leader `leader` of process `tgid`: if
// the leader is a zombie, the host holds its death back until every other thread of the process
// is reaped, so reap those that died (waiting for another thread's tracee is allowed within the
// thread group). Their deaths go to orphans_ for the tracer.
void Addon::ReapLeaderSiblings(pid_t tgid, pid_t leader) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", leader);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  const char* close_paren = strrchr(buf, ')');
  if (!close_paren || close_paren[1] != ' ' || close_paren[2] != 'Z') return;
  snprintf(path, sizeof path, "/proc/%d/task", tgid);
  // Held while reaping: the leader's wait can return as soon as the last thread is reaped, and
  // the tracer then takes this lock (EndLeaderWait) before it looks at any task.
  std::lock_guard<std::mutex> lk(orphanMu_);
  DIR* d = opendir(path);
  if (!d) return;
  while (dirent* e = readdir(d)) {
    pid_t tid = static_cast<pid_t>(atoi(e->d_name));
    if (tid <= 0 || tid == leader) continue;
    int status = 0;
    if (waitpid(tid, &status, __WALL | WNOHANG) == tid && (WIFEXITED(status) || WIFSIGNALED(status))) {
      orphans_.emplace_back(tid, status);
      haveOrphans_ = true;
    }
  }
  closedir(d);
}

// Takes the deaths the watchdog reaped into the tasks' records (tracer thread).
void Addon::DrainOrphans() {
  std::vector<std::pair<pid_t, int>> got;
  {
    std::lock_guard<std::mutex> lk(orphanMu_);
    got.swap(orphans_);
    haveOrphans_ = false;
  }
  for (auto& [tid, status] : got) {
    auto it = tasks_.find(tid);
    if (it == tasks_.end() || it->second.state == State::Dead) continue;
    if (it->second.state == State::Running) {
      // Its helper's wait (ECHILD, or a stop from before) is reported as this death.
      it->second.deathReaped = true;
      it->second.deathStatus = status;
      continue;
    }
    Pending p;
    p.code = WIFEXITED(status) ? kExited : kKilled;
    p.info[1] = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
    p.info[2] = WIFSIGNALED(status) && WCOREDUMP(status) ? 1 : 0;
    it->second.pending.clear();
    it->second.pending.push_back(p);
  }
}

// True when another task of t's process is known and not dead.
bool Addon::HasSiblings(const Task& t) {
  for (auto& [tid, other] : tasks_)
    if (tid != t.tid && other.tgid == t.tgid && other.state != State::Dead &&
        (other.pending.empty() || other.pending.back().code < kExited))
      return true;
  return false;
}

// Before a blocking wait for t: arms the watchdog's leader check when t is a leader with threads.
// Returns what EndLeaderWait needs (0: nothing armed).
uint64_t Addon::BeginLeaderWait(const Task& t) {
  if (t.tid != t.tgid || !HasSiblings(t)) return 0;
  uint64_t v = (static_cast<uint64_t>(t.tgid) << 32) | static_cast<uint32_t>(t.tid);
  leaderWaitSeq_.fetch_add(1);
  leaderWait_.store(v);
  if (watchSleeping_.load() == 1) {
    watchSleeping_ = 0;
    syscall(SYS_futex, reinterpret_cast<int*>(&watchSleeping_), FUTEX_WAKE, 1, nullptr, nullptr, 0);
  }
  return v;
}

// After the wait: disarms the check, waits out a reaping pass of the watchdog and takes its deaths.
void Addon::EndLeaderWait(uint64_t armed) {
  if (armed == 0) return;
  leaderWait_.store(0);
  { std::lock_guard<std::mutex> lk(orphanMu_); }
  if (haveOrphans_.load()) DrainOrphans();
}

// Waits for `tid` for about budgetUs (between one and two watchdog ticks). Returns 1 with
// *status set, 0 on timeout (the task is then stopped by the watchdog's signal: the caller
// resumes it), or -errno.
int Addon::TimedWait(pid_t tid, pid_t tgid, int64_t budgetUs, int* status) {
  if (budgetUs <= 0) {
    pid_t r = waitpid(tid, status, __WALL | WNOHANG);
    if (r == tid) return 1;
    return r < 0 ? -errno : 0;
  }
  if (watchTickUs_.load(std::memory_order_relaxed) != budgetUs) watchTickUs_.store(budgetUs);
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    watchSeq_.fetch_add(1);
    watchTarget_.store((static_cast<uint64_t>(tgid) << 32) | static_cast<uint32_t>(tid));
    if (watchSleeping_.load() == 1) {
      watchSleeping_ = 0;
      syscall(SYS_futex, reinterpret_cast<int*>(&watchSleeping_), FUTEX_WAKE, 1, nullptr, nullptr, 0);
    }
    pid_t r;
    do r = waitpid(tid, status, __WALL);
    while (r < 0 && errno == EINTR);
    int err = errno;
    watchTarget_.store(0);
    if (r != tid) return -err;
    if (!IsWake(tid, *status)) return 1;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t spent = (now.tv_sec - start.tv_sec) * 1000000 + (now.tv_nsec - start.tv_nsec) / 1000;
    if (spent >= budgetUs) return 0;
    // A late signal from an earlier wait: absorb it and keep waiting.
    if (ptrace(PTRACE_SYSEMU, tid, nullptr, nullptr) < 0) return -errno;
  }
}

void Addon::WaiterLoop(Waiter* w) {
  for (;;) {
    pid_t tid;
    {
      std::unique_lock<std::mutex> lk(w->mu);
      w->cv.wait(lk, [w] { return w->quit || w->job != 0; });
      if (w->job == 0) return;
      tid = w->job;
    }
    int status = 0;
    pid_t r;
    do r = waitpid(tid, &status, __WALL);
    while (r < 0 && errno == EINTR);
    int err = r < 0 ? errno : 0;
    {
      std::lock_guard<std::mutex> lk(w->mu);
      w->job = 0;
      w->busy = false;
    }
    auto* res = new AsyncResult{tid, status, err};
    if (tsfn_.NonBlockingCall(res) != napi_ok) delete res;
  }
}

void Addon::DispatchWait(pid_t tid) {
  Waiter* chosen = nullptr;
  for (auto& w : waiters_) {
    std::lock_guard<std::mutex> lk(w->mu);
    if (!w->busy) {
      w->busy = true;
      w->job = tid;
      chosen = w.get();
      break;
    }
  }
  if (!chosen) {
    auto w = std::make_unique<Waiter>();
    w->busy = true;
    w->job = tid;
    chosen = w.get();
    w->thread = std::thread(&Addon::WaiterLoop, this, chosen);
    waiters_.push_back(std::move(w));
  } else {
    chosen->cv.notify_one();
  }
  if (asyncOutstanding_++ == 0) tsfn_.Ref(env_);
}

// A task pinned to its sandbox's CPU that runs past the wait budget is computing, not calling
// the supervisor: while it does, it may use every CPU the tracer was allowed before pinning, so
// two busy processes (or threads) of a sandbox run side by side instead of sharing one CPU. Its
// next stop pins it back (Repin), since a trapped call is a round trip with the tracer, cheap
// only on the same CPU. Two affinity changes per computation longer than the budget (500 µs by
// default) cost a few µs.
void Addon::Spread(Task& t) {
  if (t.spread || !affinitySaved_ || CPU_COUNT(&savedAffinity_) < 2) return;
  auto sb = sandboxes_.find(t.sandbox);
  if (sb == sandboxes_.end() || sb->second.cpu < 0) return;
  if (sched_setaffinity(t.tid, sizeof savedAffinity_, &savedAffinity_) == 0) t.spread = true;
}

void Addon::Repin(Task& t) {
  if (!t.spread) return;
  t.spread = false;
  auto sb = sandboxes_.find(t.sandbox);
  if (sb == sandboxes_.end() || sb->second.cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(sb->second.cpu, &set);
  sched_setaffinity(t.tid, sizeof set, &set);
}

void CallOnAsync(Napi::Env env, Napi::Function fn, Addon* self, AsyncResult* r) { Addon::OnAsync(env, fn, self, r); }

void Addon::OnAsync(Napi::Env env, Napi::Function, Addon* self, AsyncResult* r) {
  std::unique_ptr<AsyncResult> owned(r);
  if (env == nullptr || self == nullptr) return;
  self->HandleAsync(env, r);
}

void Addon::HandleAsync(Napi::Env env, AsyncResult* r) {
  if (--asyncOutstanding_ == 0) tsfn_.Unref(env);
  if (haveOrphans_.load(std::memory_order_relaxed)) DrainOrphans();
  auto it = tasks_.find(r->tid);
  if (it == tasks_.end()) return;
  Task& t = it->second;
  int code;
  if (t.deathReaped) {
    // The tracer reaped this task's death after a kill; what the helper saw (a stop from before
    // the kill, or ECHILD) is stale.
    code = ProcessStatus(t, t.deathStatus);
  } else if (r->err != 0) {
    // The task vanished without a status we could see (reaped elsewhere): report it killed.
    t.state = State::Dead;
    double v[2] = {SIGKILL, 0};
    WriteInfo(kKilled, v, 2);
    code = kKilled;
  } else {
    code = ProcessStatus(t, r->status);
    if (code == kContinue) {
      t.state = State::Running;
      t.regsValid = false;
      if (ptrace(PTRACE_SYSEMU, t.tid, nullptr, nullptr) < 0 && errno != ESRCH) {
        t.state = State::Dead;
        double v[2] = {SIGKILL, 0};
        WriteInfo(kKilled, v, 2);
        code = kKilled;
      } else {
        DispatchWait(t.tid);
        return;
      }
    }
  }
  if (code >= kExited) EraseTask(r->tid);
  else Repin(t);
  try {
    onEvent_.Call({Napi::Number::New(env, r->tid), Napi::Number::New(env, code)});
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  }
}

// ---------------------------------------------------------------------------------------------

Napi::Value Addon::InitPlatform(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsFunction() || !info[1].IsTypedArray() || !info[2].IsFunction())
    throw Napi::TypeError::New(env, "Usage: init(TrapError, info: Float64Array(8), onEvent(tid, code))");
  auto arr = info[1].As<Napi::TypedArray>();
  if (arr.TypedArrayType() != napi_float64_array || arr.ElementLength() < kInfoLen)
    throw Napi::TypeError::New(env, "Usage: init(TrapError, info: Float64Array(8), onEvent(tid, code))");
  if (initialized_) throw Napi::Error::New(env, "init() called twice");
  if (static_cast<pid_t>(syscall(SYS_gettid)) != tracerTid_)
    throw Napi::Error::New(env, "init() must run on the thread that loaded the addon");
  trapError_ = Napi::Persistent(info[0].As<Napi::Function>());
  onEvent_ = Napi::Persistent(info[2].As<Napi::Function>());
  infoRef_ = Napi::Persistent(info[1].As<Napi::Float64Array>());
  info_ = info[1].As<Napi::Float64Array>().Data();

  selfPid_ = getpid();
  if (getrandom(&wakeCookie_, sizeof wakeCookie_, 0) != sizeof wakeCookie_) wakeCookie_ = 0x7476697a6f720001ULL ^ static_cast<uint64_t>(selfPid_);
  watchdog_ = std::thread(&Addon::WatchdogLoop, this);
  tsfn_ = Tsfn::New(env, "tsvisor-trap-wait", 0, 1, this);
  tsfn_.Unref(env);
  initialized_ = true;

  unsigned a = 0, b = 0, c = 0, d = 0;
  size_t xsize = 512;
  if (__get_cpuid_count(0xd, 0, &a, &b, &c, &d) && b >= 512) xsize = b;
  xstateSize_ = xsize;

  Napi::Object out = Napi::Object::New(env);
  out.Set("stubBase", Napi::Number::New(env, static_cast<double>(kStubBase)));
  out.Set("stubEnd", Napi::Number::New(env, static_cast<double>(kStubEnd)));
  out.Set("xstateSize", Napi::Number::New(env, static_cast<double>(xstateSize_)));
  out.Set("wakeSignal", Napi::Number::New(env, WakeSignal()));  // sent to tracees, never to Node
  out.Set("tracerTid", Napi::Number::New(env, tracerTid_));
  out.Set("cpu", Napi::Number::New(env, sched_getcpu()));
  return out;
}

namespace {
// Gives every other thread of this process `mask`: V8's compiler and GC helpers, libuv's pool and
// the watchdog. Threads that exit meanwhile are skipped.
void SetOthersAffinity(pid_t tracer, const cpu_set_t& mask) {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long tid = strtol(e->d_name, &end, 10);
    if (tid <= 0 || *end != 0 || tid == tracer) continue;
    sched_setaffinity(static_cast<pid_t>(tid), sizeof mask, &mask);
  }
  closedir(dir);
}
}  // namespace

// affinity(cpu): pins the tracer thread to `cpu` (>= 0) or restores the mask it had before the
// first pin (-1). Returns the CPU pinned to, or -1.
//
// While pinned, the process's other threads are kept off that CPU when there is another one to
// use: V8 compiles hot functions on helper threads (hundreds of milliseconds of work in the first
// second of a busy sandbox), and each of its time slices on the pinned CPU delays the tracer and
// the stubs it runs. Threads the tracer starts later inherit its mask.
Napi::Value Addon::Affinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckTracer(env);
  if (info.Length() < 1 || !info[0].IsNumber()) Throw(env, "EINVAL", "Usage: affinity(cpu: number)");
  int cpu = info[0].As<Napi::Number>().Int32Value();
  if (cpu < 0) {
    if (affinitySaved_) {
      sched_setaffinity(0, sizeof savedAffinity_, &savedAffinity_);
      SetOthersAffinity(tracerTid_, savedAffinity_);
    }
    affinitySaved_ = false;
    return Napi::Number::New(env, -1);
  }
  if (cpu >= CPU_SETSIZE) Throw(env, "EINVAL", "cpu out of range");
  if (!affinitySaved_) {
    sched_getaffinity(0, sizeof savedAffinity_, &savedAffinity_);
    affinitySaved_ = true;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) ThrowErrno(env, errno, "sched_setaffinity");
  cpu_set_t others = savedAffinity_;
  CPU_CLR(cpu, &others);
  SetOthersAffinity(tracerTid_, CPU_COUNT(&others) > 0 ? others : savedAffinity_);
  return Napi::Number::New(env, cpu);
}

namespace {
// "0 <id> 1\n" without stdio (the child of clone may not take locks).
int FormatMap(char* out, unsigned id) {
  char digits[16];
  int nd = 0;
  do {
    digits[nd++] = static_cast<char>('0' + id % 10);
    id /= 10;
  } while (id);
  int n = 0;
  out[n++] = '0';
  out[n++] = ' ';
  while (nd) out[n++] = digits[--nd];
  out[n++] = ' ';
  out[n++] = '1';
  out[n++] = '\n';
  return n;
}

// Child side of spawnStub: runs between clone and execve in a copy of a multi-threaded process,
// so it uses raw system calls only (no allocation, no locks).
[[noreturn]] void StubChild(const char* path, const int* fdMap, int nfd, int ctlFd, int stubCtlFd, int cpu,
                            bool userns, uid_t uid, gid_t gid, pid_t parent, bool pidns, int errPipe) {
  auto fail = [errPipe](int stage) {
    int e[2] = {stage, errno};
    if (write(errPipe, e, sizeof e) < 0) {
    }
    syscall(SYS_exit_group, 127);
    __builtin_unreachable();
  };
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(1);
  if (!pidns && getppid() != parent) syscall(SYS_exit_group, 127);
  if (userns) {
    char buf[64];
    int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (write(fd, "deny", 4) < 0) {
      }
      close(fd);
    }
    int n = FormatMap(buf, uid);
    fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, n) != n) fail(2);
    close(fd);
    n = FormatMap(buf, gid);
    fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, n) != n) fail(3);
    close(fd);
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  // Default dispositions and an empty mask: Node ignores SIGPIPE and execve keeps ignored signals.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < 65; s++)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Fds: park every source above all numbers in play, mark everything close-on-exec, then dup2
  // the parked copies to their targets (dup2 clears close-on-exec on the target only).
  int top = ctlFd > stubCtlFd ? ctlFd : stubCtlFd;
  if (errPipe > top) top = errPipe;
  for (int i = 0; i < nfd; i++) {
    if (fdMap[2 * i] > top) top = fdMap[2 * i];
    if (fdMap[2 * i + 1] > top) top = fdMap[2 * i + 1];
  }
  int parked[128 + 1];
  for (int i = 0; i < nfd; i++) {
    parked[i] = fcntl(fdMap[2 * i], F_DUPFD_CLOEXEC, top + 1);
    if (parked[i] < 0) fail(4);
    top = parked[i];
  }
  int parkedCtl = fcntl(ctlFd, F_DUPFD_CLOEXEC, top + 1);
  if (parkedCtl < 0) fail(5);
  if (syscall(SYS_close_range, 0U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0) fail(6);
  for (int i = 0; i < nfd; i++)
    if (dup2(parked[i], fdMap[2 * i + 1]) < 0) fail(7);
  if (dup2(parkedCtl, stubCtlFd) < 0) fail(8);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(9);
  // A fixed host layout keeps the randomized host stack away from the stub's pages.
  if (personality(ADDR_NO_RANDOMIZE) < 0) fail(10);
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) < 0) fail(11);
  char* const argv[] = {const_cast<char*>(path), nullptr};
  char* const envp[] = {nullptr};
  execve(path, argv, envp);
  fail(12);
  __builtin_unreachable();
}
}  // namespace

// spawnStub(path, cloneFlags, fdMap: Int32Array [host, target, ...], cpu) -> tid
Napi::Value Addon::SpawnStub(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckTracer(env);
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsTypedArray() || !info[3].IsNumber())
    Throw(env, "EINVAL", "Usage: spawnStub(path: string, cloneFlags: number, fdMap: Int32Array, cpu: number, keepVdso?: boolean)");
  bool keepVdso = info.Length() >= 5 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int64_t flags = info[1].As<Napi::Number>().Int64Value();
  auto fdArr = info[2].As<Napi::TypedArray>();
  if (fdArr.TypedArrayType() != napi_int32_array || fdArr.ElementLength() % 2 != 0 || fdArr.ElementLength() > 256)
    Throw(env, "EINVAL", "Usage: fdMap is an Int32Array of at most 128 [hostFd, stubFd] pairs");
  const int64_t nsMask = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if ((flags & ~nsMask) != 0) Throw(env, "EINVAL", "cloneFlags may hold only CLONE_NEW* namespace flags");
  std::vector<int> fdMap(fdArr.As<Napi::Int32Array>().Data(), fdArr.As<Napi::Int32Array>().Data() + fdArr.ElementLength());
  int stubCtlFd = 3;
  for (size_t i = 0; i < fdMap.size(); i += 2) {
    if (fdMap[i] < 0 || fdMap[i + 1] < 0 || fdMap[i + 1] > 65535) Throw(env, "EINVAL", "fdMap holds a negative or huge fd");
    if (fcntl(fdMap[i], F_GETFD) < 0) Throw(env, "EBADF", "fdMap: host fd " + std::to_string(fdMap[i]) + " is not open");
    if (fdMap[i + 1] >= stubCtlFd) stubCtlFd = fdMap[i + 1] + 1;
  }
  int cpu = info[3].As<Napi::Number>().Int32Value();
  if (access(path.c_str(), X_OK) < 0) ThrowErrno(env, errno, "stub " + path);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) ThrowErrno(env, errno, "socketpair");
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    ThrowErrno(env, e, "pipe2");
  }
  pid_t parent = getpid();
  uid_t uid = geteuid();
  gid_t gid = getegid();
  bool userns = flags & CLONE_NEWUSER;
  bool pidns = flags & CLONE_NEWPID;
  long pid = syscall(SYS_clone, static_cast<unsigned long>(flags) | SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid == 0) StubChild(path.c_str(), fdMap.data(), static_cast<int>(fdMap.size() / 2), sv[1], stubCtlFd, cpu, userns, uid, gid, parent, pidns, ep[1]);
  int cloneErr = errno;
  close(ep[1]);
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    close(ep[0]);
    ThrowErrno(env, cloneErr, "clone");
  }
  int status = 0;
  pid_t r;
  do r = waitpid(static_cast<pid_t>(pid), &status, __WALL);
  while (r < 0 && errno == EINTR);
  int childErr[2] = {0, 0};
  ssize_t got = read(ep[0], childErr, sizeof childErr);
  close(ep[0]);
  if (r < 0 || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
    close(sv[0]);
    close(sv[1]);
    if (r >= 0 && WIFSTOPPED(status)) {
      kill(static_cast<pid_t>(pid), SIGKILL);
      waitpid(static_cast<pid_t>(pid), &status, __WALL);
    }
    if (got == sizeof childErr) ThrowErrno(env, childErr[1], "stub setup step " + std::to_string(childErr[0]));
    Throw(env, "EIO", "stub did not stop after execve");
  }
  long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
  if (ptrace(PTRACE_SETOPTIONS, pid, nullptr, opts) < 0) {
    int e = errno;
    kill(static_cast<pid_t>(pid), SIGKILL);
    waitpid(static_cast<pid_t>(pid), &status, __WALL);
    close(sv[0]);
    close(sv[1]);
    ThrowErrno(env, e, "PTRACE_SETOPTIONS");
  }
  int id = nextSandbox_++;
  sandboxes_[id] = Sandbox{sv[0], sv[1], stubCtlFd, pidns, static_cast<pid_t>(pid), cpu};
  Task& t = tasks_[static_cast<pid_t>(pid)];
  t.tid = t.tgid = static_cast<pid_t>(pid);
  t.sandbox = id;
  t.state = State::Stopped;
  t.regsValid = false;
  EnsureRegs(env, t);
  if (t.regs.rip != kStubGadget) {
    kill(static_cast<pid_t>(pid), SIGKILL);
    ReapAfterKill(env, {static_cast<pid_t>(pid)});
    EraseTask(static_cast<pid_t>(pid));
    Throw(env, "EIO", "stub entry is not at STUB_BASE: wrong stub binary?");
  }

  // Learn the real size of the XSAVE area from the kernel.
  std::vector<uint8_t> xbuf(65536);
  iovec xiov{xbuf.data(), xbuf.size()};
  if (ptrace(PTRACE_GETREGSET, pid, reinterpret_cast<void*>(NT_X86_XSTATE), &xiov) == 0) xstateSize_ = xiov.iov_len;

  // Unmap everything of the stub but its own two pages: the exec stack, and the vdso and vvar
  // pages unless the caller keeps them (the sandbox's clocks are the host's, so the host's vDSO
  // answers clock_gettime without a trap). The stub runs with ADDR_NO_RANDOMIZE, so every stub,
  // and every process forked from one, has them at the same address.
  char mapsPath[64];
  snprintf(mapsPath, sizeof mapsPath, "/proc/%ld/maps", pid);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  if (FILE* f = fopen(mapsPath, "re")) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      unsigned long long lo, hi;
      if (sscanf(line, "%llx-%llx", &lo, &hi) != 2 || hi > kUserEnd || (lo >= kStubBase && hi <= kStubEnd)) continue;
      if (keepVdso && (strstr(line, " [vdso]\n") || strstr(line, " [vvar]\n") || strstr(line, " [vvar_vclock]\n"))) continue;
      ranges.emplace_back(lo, hi);
    }
    fclose(f);
  }
  for (auto& [lo, hi] : ranges) {
    uint64_t args[6] = {lo, hi - lo, 0, 0, 0, 0};
    int64_t res = Inject(env, t, SYS_munmap, args, nullptr, nullptr);
    if (res != 0) {
      kill(static_cast<pid_t>(pid), SIGKILL);
      ReapAfterKill(env, {static_cast<pid_t>(pid)});
      EraseTask(static_cast<pid_t>(pid));
      Throw(env, "EIO", "could not unmap the stub's exec leftovers");
    }
  }
  return Napi::Number::New(env, static_cast<double>(pid));
}

// resume(tid, budgetUs) -> event code; kPending means the event will arrive through onEvent.
Napi::Value Addon::Resume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = TaskArg(info, 0);
  if (t.state == State::Running) Throw(env, "EBUSY", "task " + std::to_string(t.tid) + " is already running");
  if (info.Length() < 2 || !info[1].IsNumber()) Throw(env, "EINVAL", "Usage: resume(tid, budgetUs: number)");
  int64_t budget = info[1].As<Napi::Number>().Int64Value();
  pid_t tid = t.tid;
  if (!t.pending.empty()) {
    Pending p = t.pending.front();
    t.pending.pop_front();
    memcpy(info_, p.info, sizeof p.info);
    info_[0] = p.code;
    if (p.code >= kExited) EraseTask(tid);
    return Napi::Number::New(env, p.code);
  }
  if (t.state == State::Dead) Throw(env, "ESRCH", "task " + std::to_string(tid) + " has exited");
  for (;;) {
    t.regsValid = false;
    if (ptrace(PTRACE_SYSEMU, tid, nullptr, nullptr) < 0 && errno != ESRCH) ThrowErrno(env, errno, "PTRACE_SYSEMU");
    // On ESRCH the task is dying (killed while stopped): its death status is on its way.
    t.state = State::Running;
    int status = 0;
    uint64_t lw = tasks_.size() > 1 ? BeginLeaderWait(t) : 0;
    int w = TimedWait(tid, t.tgid, budget, &status);
    EndLeaderWait(lw);
    if (w == 0) {
      // Stopped by the watchdog (or, with no budget, still running): wait on a helper thread.
      if (budget > 0) Spread(t);
      if (budget > 0 && ptrace(PTRACE_SYSEMU, tid, nullptr, nullptr) < 0 && errno != ESRCH) ThrowErrno(env, errno, "PTRACE_SYSEMU");
      DispatchWait(tid);
      return Napi::Number::New(env, kPending);
    }
    if (w < 0) {
      t.state = State::Dead;
      EraseTask(tid);
      ThrowErrno(env, -w, "waitpid");
    }
    int code = ProcessStatus(t, status);
    if (code == kContinue) continue;
    if (code >= kExited) EraseTask(tid);
    return Napi::Number::New(env, code);
  }
}

// cpuTicks(tgid, tid, out: Float64Array(2)) -> 0 or -errno: the host thread's user and system CPU
// time in clock ticks (fields 14 and 15 of /proc/<tgid>/task/<tid>/stat). Any task, running or
// not: the supervisor samples them for times(2), getrusage(2) and CPU-time clocks, often enough
// that node:fs's readFileSync (about 50 µs with its buffers and string) showed in profiles.
Napi::Value Addon::CpuTicks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || info[2].As<Napi::TypedArray>().ElementLength() < 2)
    Throw(env, "EINVAL", "Usage: cpuTicks(tgid, tid, out: Float64Array(2))");
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Napi::Number::New(env, errno == ENOENT ? -ESRCH : -errno);  // the thread is gone
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int err = errno;
  close(fd);
  if (n <= 0) return Napi::Number::New(env, n < 0 ? -err : -ESRCH);
  buf[n] = 0;
  // The comm field may hold spaces and parentheses: count fields after the last ')'.
  char* p = strrchr(buf, ')');
  if (!p) return Napi::Number::New(env, -EIO);
  p += 2;  // ") " then the state, field 3
  unsigned long long v[2] = {0, 0};
  for (int field = 3; field <= 15 && *p; field++) {
    char* end = strchr(p, ' ');
    if (field >= 14) v[field - 14] = strtoull(p, nullptr, 10);
    if (!end) break;
    p = end + 1;
  }
  double* out = reinterpret_cast<double*>(static_cast<uint8_t*>(info[2].As<Napi::TypedArray>().ArrayBuffer().Data()) + info[2].As<Napi::TypedArray>().ByteOffset());
  out[0] = static_cast<double>(v[0]);
  out[1] = static_cast<double>(v[1]);
  return Napi::Number::New(env, 0);
}

// clockOffset() -> bigint: CLOCK_REALTIME - CLOCK_MONOTONIC in ns, what the host's vDSO adds to
// the monotonic clock to answer gettimeofday, so the supervisor's realtime (Node's hrtime is
// CLOCK_MONOTONIC) agrees with it to the nanosecond. The realtime read sits between two
// monotonic ones, and the closest of a few tries counts.
Napi::Value Addon::ClockOffset(const Napi::CallbackInfo& info) {
  auto ns = [](const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; };
  int64_t best = 0, spread = INT64_MAX;
  for (int i = 0; i < 5; i++) {
    timespec a, r, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    int64_t width = ns(b) - ns(a);
    if (width < spread) {
      spread = width;
      best = ns(r) - (ns(a) + width / 2);
    }
  }
  return Napi::BigInt::New(info.Env(), best);
}

// The bytes of argument 1, a BigUint64Array of the 27 user registers (EINVAL with `usage` if it
// is anything else).
uint8_t* Addon::RegsArg(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array ||
      info[1].As<Napi::TypedArray>().ElementLength() != kRegCount)
    Throw(info.Env(), "EINVAL", std::string("Usage: ") + usage);
  return static_cast<uint8_t*>(info[1].As<Napi::TypedArray>().ArrayBuffer().Data()) + info[1].As<Napi::TypedArray>().ByteOffset();
}

Napi::Value Addon::GetRegs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  uint8_t* out = RegsArg(info, "getRegs(tid, out: BigUint64Array(27))");
  EnsureRegs(env, t);
  memcpy(out, &t.regs, sizeof t.regs);
  return env.Undefined();
}

Napi::Value Addon::SetRegs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  user_regs_struct r;
  memcpy(&r, RegsArg(info, "setRegs(tid, regs: BigUint64Array(27))"), sizeof r);
  PutRegs(env, t, r);
  return env.Undefined();
}

void Addon::PutRegs(Napi::Env env, Task& t, const user_regs_struct& r) {
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) < 0) {
    int e = errno;
    t.regsValid = false;  // the kernel may have taken some registers before refusing one
    ThrowErrno(env, e == EIO ? EINVAL : e, "PTRACE_SETREGS rejected the register set");
  }
  t.regs = r;
  t.regsValid = true;
}

// syncRegs(tid, regs: BigUint64Array(27)): gives the stopped thread the registers `regs` with
// the fewest ptrace calls their difference from what the thread holds needs: none, rax alone
// (PTRACE_POKEUSER: a syscall's answer, the usual case) or all of them (PTRACE_SETREGS). The
// comparison is made here because in the caller's unoptimized JavaScript it cost more than the
// system call it saves.
Napi::Value Addon::SyncRegs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  user_regs_struct r;
  memcpy(&r, RegsArg(info, "syncRegs(tid, regs: BigUint64Array(27))"), sizeof r);
  if (t.regsValid) {
    user_regs_struct held = t.regs;
    held.rax = r.rax;
    if (memcmp(&held, &r, sizeof r) == 0) {
      if (t.regs.rax != r.rax) {
        if (ptrace(PTRACE_POKEUSER, t.tid, reinterpret_cast<void*>(offsetof(user_regs_struct, rax)), reinterpret_cast<void*>(r.rax)) < 0)
          ThrowErrno(env, errno, "PTRACE_POKEUSER");
        t.regs.rax = r.rax;
      }
      return env.Undefined();
    }
  }
  PutRegs(env, t, r);
  return env.Undefined();
}

Napi::Value Addon::SetSyscallResult(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  uint64_t v;
  if (info.Length() < 2 || !ToRaw64(info[1], &v)) Throw(env, "EINVAL", "Usage: setSyscallResult(tid, value: number | bigint)");
  if (ptrace(PTRACE_POKEUSER, t.tid, reinterpret_cast<void*>(offsetof(user_regs_struct, rax)), reinterpret_cast<void*>(v)) < 0)
    ThrowErrno(env, errno, "PTRACE_POKEUSER");
  if (t.regsValid) t.regs.rax = v;
  return env.Undefined();
}

Napi::Value Addon::GetFpRegs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    Throw(env, "EINVAL", "Usage: getFpRegs(tid, out: Uint8Array)");
  auto buf = info[1].As<Napi::Uint8Array>();
  if (buf.ByteLength() < xstateSize_) Throw(env, "EINVAL", "getFpRegs: buffer smaller than the XSAVE area (" + std::to_string(xstateSize_) + " bytes)");
  iovec iov{buf.Data(), xstateSize_};
  if (ptrace(PTRACE_GETREGSET, t.tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) < 0) ThrowErrno(env, errno, "PTRACE_GETREGSET");
  return Napi::Number::New(env, static_cast<double>(iov.iov_len));
}

Napi::Value Addon::SetFpRegs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    Throw(env, "EINVAL", "Usage: setFpRegs(tid, state: Uint8Array)");
  auto buf = info[1].As<Napi::Uint8Array>();
  if (buf.ByteLength() != xstateSize_) Throw(env, "EINVAL", "setFpRegs: state must be exactly " + std::to_string(xstateSize_) + " bytes");
  iovec iov{buf.Data(), xstateSize_};
  if (ptrace(PTRACE_SETREGSET, t.tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) < 0) {
    int e = errno;
    ThrowErrno(env, e == EFAULT ? EINVAL : e, "PTRACE_SETREGSET rejected the XSAVE area");
  }
  return env.Undefined();
}

namespace {
// Shared by the memory calls: the task handle, then (addr, Uint8Array). Returns false for a
// bad address (the caller answers -EFAULT).
bool MemArgs(const Napi::CallbackInfo& info, size_t i, uint64_t* addr, Napi::Uint8Array* buf, std::string* usage) {
  if (info.Length() <= i + 1 || !info[i + 1].IsTypedArray() || info[i + 1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
      !(info[i].IsNumber() || info[i].IsBigInt())) {
    *usage = "Usage: (tid, addr: number | bigint, buf: Uint8Array)";
    return true;
  }
  *buf = info[i + 1].As<Napi::Uint8Array>();
  if (info[i].IsNumber()) {
    double d = info[i].As<Napi::Number>().DoubleValue();
    if (d != d || d - d != 0 || __builtin_trunc(d) != d) {
      *usage = "Usage: addr must be an integer";
      return true;
    }
    if (d < 0 || d >= 18446744073709551616.0) return false;
    *addr = static_cast<uint64_t>(d);
    return true;
  }
  bool lossless = false;
  *addr = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  return lossless;
}
}  // namespace

Napi::Value Addon::ReadMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = TaskArg(info, 0);
  uint64_t addr = 0;
  Napi::Uint8Array buf;
  std::string usage;
  bool ok = MemArgs(info, 1, &addr, &buf, &usage);
  if (!usage.empty()) Throw(env, "EINVAL", "readMemory" + usage.substr(6));
  if (!ok || addr >= kUserEnd) return Napi::Number::New(env, buf.ByteLength() ? -EFAULT : 0);
  if (buf.ByteLength() == 0) return Napi::Number::New(env, 0);
  iovec local{buf.Data(), buf.ByteLength()};
  iovec remote{reinterpret_cast<void*>(addr), buf.ByteLength()};
  ssize_t n = process_vm_readv(t.tid, &local, 1, &remote, 1, 0);
  return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
}

Napi::Value Addon::WriteMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = TaskArg(info, 0);
  uint64_t addr = 0;
  Napi::Uint8Array buf;
  std::string usage;
  bool ok = MemArgs(info, 1, &addr, &buf, &usage);
  if (!usage.empty()) Throw(env, "EINVAL", "writeMemory" + usage.substr(6));
  if (!ok || addr >= kUserEnd) return Napi::Number::New(env, buf.ByteLength() ? -EFAULT : 0);
  if (buf.ByteLength() == 0) return Napi::Number::New(env, 0);
  iovec local{buf.Data(), buf.ByteLength()};
  iovec remote{reinterpret_cast<void*>(addr), buf.ByteLength()};
  ssize_t n = process_vm_writev(t.tid, &local, 1, &remote, 1, 0);
  return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
}

namespace {
// (tid, addrs: Float64Array, bufs: Uint8Array[]) -> bytes moved or -errno; stops at the first
// inaccessible byte, like process_vm_readv.
Napi::Value Vector(Addon* self, const Napi::CallbackInfo& info, bool write, Task& t,
                   void (Addon::*thrower)(Napi::Env, const char*, const std::string&)) {
  Napi::Env env = info.Env();
  const char* usage = write ? "Usage: writeMemoryv(tid, addrs: Float64Array, bufs: Uint8Array[])"
                            : "Usage: readMemoryv(tid, addrs: Float64Array, bufs: Uint8Array[])";
  if (info.Length() < 3 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || !info[2].IsArray())
    (self->*thrower)(env, "EINVAL", usage);
  auto addrs = info[1].As<Napi::Float64Array>();
  auto bufs = info[2].As<Napi::Array>();
  size_t n = addrs.ElementLength();
  if (bufs.Length() != n) (self->*thrower)(env, "EINVAL", std::string(usage) + ": lengths differ");
  std::vector<iovec> local(n), remote(n);
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    Napi::Value b = bufs[i];
    if (!b.IsTypedArray() || b.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) (self->*thrower)(env, "EINVAL", usage);
    auto u8 = b.As<Napi::Uint8Array>();
    double a = addrs[i];
    if (a != a || a - a != 0 || __builtin_trunc(a) != a) (self->*thrower)(env, "EINVAL", std::string(usage) + ": addresses must be integers");
    local[i] = iovec{u8.Data(), u8.ByteLength()};
    if (a < 0 || a >= static_cast<double>(kUserEnd)) {
      // An address no task can map: the transfer stops here.
      n = i;
      local.resize(n);
      break;
    }
    remote[i] = iovec{reinterpret_cast<void*>(static_cast<uint64_t>(a)), u8.ByteLength()};
    total += u8.ByteLength();
  }
  remote.resize(n);
  if (n == 0) return Napi::Number::New(env, bufs.Length() == 0 ? 0 : -EFAULT);
  size_t done = 0;
  for (size_t off = 0; off < n; off += 1024) {
    size_t cnt = n - off < 1024 ? n - off : 1024;
    size_t want = 0;
    for (size_t i = off; i < off + cnt; i++) want += local[i].iov_len;
    ssize_t r = write ? process_vm_writev(t.tid, &local[off], cnt, &remote[off], cnt, 0)
                      : process_vm_readv(t.tid, &local[off], cnt, &remote[off], cnt, 0);
    if (r < 0) {
      if (done == 0) return Napi::Number::New(env, -errno);
      break;
    }
    done += static_cast<size_t>(r);
    if (static_cast<size_t>(r) < want) break;
  }
  (void)total;
  return Napi::Number::New(env, static_cast<double>(done));
}
}  // namespace

Napi::Value Addon::ReadMemoryv(const Napi::CallbackInfo& info) {
  Task& t = TaskArg(info, 0);
  return Vector(this, info, false, t, &Addon::Throw);
}

Napi::Value Addon::WriteMemoryv(const Napi::CallbackInfo& info) {
  Task& t = TaskArg(info, 0);
  return Vector(this, info, true, t, &Addon::Throw);
}

// Registers a child created by an injected clone/fork: collects its first stop.
pid_t Addon::AdoptChild(Napi::Env env, Task& parent, pid_t child, bool thread) {
  int status = 0;
  pid_t r;
  do r = waitpid(child, &status, __WALL);
  while (r < 0 && errno == EINTR);
  Task& c = tasks_[child];
  c.tid = child;
  c.tgid = thread ? parent.tgid : child;
  c.sandbox = parent.sandbox;
  c.regsValid = false;
  if (r != child || !WIFSTOPPED(status)) {
    c.state = State::Dead;
    Pending p;
    p.code = (r == child && WIFEXITED(status)) ? kExited : kKilled;
    p.info[1] = (r == child && WIFEXITED(status)) ? WEXITSTATUS(status) : SIGKILL;
    c.state = State::Stopped;
    c.pending.push_back(p);
    return child;
  }
  c.state = State::Stopped;
  (void)env;
  return child;
}

// Runs one host system call inside a stopped task and restores its registers. Children created
// by the call are adopted (their tids in *child). Returns rax, or -ESRCH when the task died (its
// death is queued as its next event).
int64_t Addon::Inject(Napi::Env env, Task& t, uint64_t nr, const uint64_t* args, pid_t* child, bool* isThread) {
  EnsureRegs(env, t);
  user_regs_struct saved = t.regs;
  user_regs_struct r = saved;
  r.rax = nr;
  r.orig_rax = static_cast<uint64_t>(-1);
  r.rdi = args[0];
  r.rsi = args[1];
  r.rdx = args[2];
  r.r10 = args[3];
  r.r8 = args[4];
  r.r9 = args[5];
  r.rip = kStubGadget;
  if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &r) < 0) ThrowErrno(env, errno, "PTRACE_SETREGS (inject)");
  t.regsValid = false;
  for (;;) {
    if (ptrace(PTRACE_CONT, t.tid, nullptr, nullptr) < 0 && errno != ESRCH) ThrowErrno(env, errno, "PTRACE_CONT (inject)");
    int status = 0;
    pid_t w;
    uint64_t lw = tasks_.size() > 1 ? BeginLeaderWait(t) : 0;
    do w = waitpid(t.tid, &status, __WALL);
    while (w < 0 && errno == EINTR);
    EndLeaderWait(lw);
    if (w < 0) ThrowErrno(env, errno, "waitpid (inject)");
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      Pending p;
      p.code = WIFEXITED(status) ? kExited : kKilled;
      p.info[1] = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
      p.info[2] = WIFSIGNALED(status) && WCOREDUMP(status) ? 1 : 0;
      t.pending.push_back(p);
      return -ESRCH;
    }
    if (!WIFSTOPPED(status)) continue;
    int event = status >> 16;
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
      unsigned long msg = 0;
      ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &msg);
      bool thread = event == PTRACE_EVENT_CLONE && (args[0] & CLONE_THREAD);
      pid_t c = AdoptChild(env, t, static_cast<pid_t>(msg), thread);
      if (child) *child = c;
      if (isThread) *isThread = thread;
      continue;
    }
    if (event != 0) continue;
    int sig = WSTOPSIG(status);
    if (sig == SIGTRAP) {
      // Our int3 (checked by where the task stopped; a SIGTRAP from elsewhere falls through).
      user_regs_struct after;
      if (ptrace(PTRACE_GETREGS, t.tid, nullptr, &after) < 0) ThrowErrno(env, errno, "PTRACE_GETREGS (inject)");
      if (after.rip == kStubGadget + 3) {
        // Everything goes back, except what arch_prctl(ARCH_SET_FS/GS) is for.
        saved.fs_base = after.fs_base;
        saved.gs_base = after.gs_base;
        saved.fs = after.fs;
        saved.gs = after.gs;
        if (ptrace(PTRACE_SETREGS, t.tid, nullptr, &saved) < 0) ThrowErrno(env, errno, "PTRACE_SETREGS (restore)");
        t.regs = saved;
        t.regsValid = true;
        return static_cast<int64_t>(after.rax);
      }
    }
    siginfo_t si;
    bool haveInfo = ptrace(PTRACE_GETSIGINFO, t.tid, nullptr, &si) == 0;
    if (!haveInfo) continue;  // group-stop: resume
    if (IsOurWake(sig, si)) continue;  // the watchdog's
    // Another signal arrived meanwhile: keep it for the task's next switch.
    Pending p;
    bool fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) && si.si_code > 0;
    p.code = fault ? kFault : kSignal;
    p.info[1] = sig;
    p.info[2] = si.si_code;
    p.info[3] = fault ? static_cast<double>(reinterpret_cast<uintptr_t>(si.si_addr)) : si.si_pid;
    p.info[4] = fault ? 0 : si.si_uid;
    t.pending.push_back(p);
  }
}

// True when a memory-management call would change [kStubBase, kStubEnd): the platform's own
// pages, which every injected call depends on. Only a kernel bug asks for that.
bool TouchesStub(int64_t nr, const uint64_t* a) {
  auto hits = [](uint64_t start, uint64_t len) {
    uint64_t end = start + ((len + 4095) & ~4095ULL);
    return end < start || (start < kStubEnd && end > kStubBase);
  };
  switch (nr) {
    case SYS_munmap:
    case SYS_mprotect:
    case SYS_pkey_mprotect:
    case SYS_madvise:
    case SYS_mlock:
    case SYS_munlock:
    case SYS_msync:
      return hits(a[0], a[1]);
    case SYS_mmap:
      return (a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0 && hits(a[0], a[1]);
    case SYS_mremap:
      return hits(a[0], a[1]) || ((a[3] & MREMAP_FIXED) != 0 && hits(a[4], a[2]));
    default:
      return false;
  }
}

// hostSyscall(tid, nr, a0..a5) -> rax (as a signed number)
Napi::Value Addon::HostSyscall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  if (info.Length() < 2 || !info[1].IsNumber()) Throw(env, "EINVAL", "Usage: hostSyscall(tid, nr: number, ...args: (number | bigint)[6])");
  int64_t nr = info[1].As<Napi::Number>().Int64Value();
  if (nr < 0 || nr > 1023) Throw(env, "EINVAL", "hostSyscall: bad syscall number");
  if (nr == SYS_clone || nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone3 || nr == SYS_execve || nr == SYS_execveat)
    Throw(env, "EINVAL", "hostSyscall: use hostClone() to create tasks; execve is never run on the host");
  uint64_t args[6] = {};
  for (size_t i = 0; i < 6; i++) {
    if (info.Length() > i + 2 && !info[i + 2].IsUndefined() && !ToRaw64(info[i + 2], &args[i]))
      Throw(env, "EINVAL", "hostSyscall: argument " + std::to_string(i) + " is not a 64-bit integer");
  }
  if (TouchesStub(nr, args)) Throw(env, "EINVAL", "hostSyscall: the call would change the stub's own pages");
  if (nr == SYS_exit && t.tid == t.tgid) {
    // A leader's exit is reported only once every other thread of its process is reaped: the
    // wait below would block this thread, the only one that can end those threads.
    for (auto& [tid, other] : tasks_)
      if (tid != t.tid && other.tgid == t.tgid && other.state != State::Dead &&
          (other.pending.empty() || other.pending.back().code < kExited))
        Throw(env, "EINVAL", "hostSyscall: exit of a thread-group leader whose threads live would block the tracer");
  }
  int64_t res = Inject(env, t, static_cast<uint64_t>(nr), args, nullptr, nullptr);
  return Napi::Number::New(env, static_cast<double>(res));
}

// hostClone(tid, flags) -> new tid (stopped, traced) or -errno
Napi::Value Addon::HostClone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  uint64_t flags;
  if (info.Length() < 2 || !ToRaw64(info[1], &flags)) Throw(env, "EINVAL", "Usage: hostClone(tid, flags: number)");
  if (flags & (CLONE_VFORK | CLONE_UNTRACED | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PIDFD))
    Throw(env, "EINVAL", "hostClone: CLONE_VFORK, CLONE_UNTRACED and the flags that take pointers are not allowed");
  Sandbox& sb = sandboxes_.at(t.sandbox);
  if ((flags & CLONE_PARENT) && sb.pidns && t.tgid == sb.init) flags &= ~static_cast<uint64_t>(CLONE_PARENT);
  uint64_t args[6] = {flags, 0, 0, 0, 0, 0};
  pid_t child = 0;
  bool thread = false;
  int64_t res = Inject(env, t, SYS_clone, args, &child, &thread);
  if (res < 0) return Napi::Number::New(env, static_cast<double>(res));
  if (child == 0) Throw(env, "EIO", "hostClone: the clone succeeded but no child was reported");
  return Napi::Number::New(env, child);
}

// passFd(tid, hostFd) -> the fd number in the task's host fd table, or -errno
// memfd_create(2) for the supervisor itself (Node has no binding): a close-on-exec memory file
// whose seals can be added, the backing of shared mappings of in-memory files. Returns the fd or
// -errno; the name is only what the host's /proc shows.
Napi::Value Addon::MemfdCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) Throw(env, "EINVAL", "Usage: memfdCreate(name: string)");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int fd = static_cast<int>(syscall(SYS_memfd_create, name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  return Napi::Number::New(env, fd < 0 ? -errno : fd);
}

// fcntl(fd, F_ADD_SEALS, seals): 0 or -errno (EBUSY when a writable shared mapping exists).
Napi::Value Addon::MemfdAddSeals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    Throw(env, "EINVAL", "Usage: memfdAddSeals(fd: number, seals: number)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  int seals = info[1].As<Napi::Number>().Int32Value();
  int r = fcntl(fd, F_ADD_SEALS, seals);
  return Napi::Number::New(env, r < 0 ? -errno : 0);
}

Napi::Value Addon::PassFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = StoppedTaskArg(info, 0);
  if (info.Length() < 2 || !info[1].IsNumber()) Throw(env, "EINVAL", "Usage: passFd(tid, hostFd: number)");
  int fd = info[1].As<Napi::Number>().Int32Value();
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) return Napi::Number::New(env, -EBADF);
  Sandbox& sb = sandboxes_.at(t.sandbox);
  // Send the fd with one byte of data, then make the task receive it into its scratch page.
  char byte = 'F';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  if (sendmsg(sb.ctlFd, &mh, MSG_NOSIGNAL) < 0) return Napi::Number::New(env, -errno);

  // Scratch layout: msghdr at +0, iovec at +64, data byte at +96, control at +128.
  struct {
    msghdr mh;
    char pad1[64 - sizeof(msghdr)];
    iovec iov;
    char pad2[32 - sizeof(iovec)];
    char data[32];
    alignas(8) char control[64];
  } s{};
  s.iov.iov_base = reinterpret_cast<void*>(kStubScratch + offsetof(decltype(s), data));
  s.iov.iov_len = 1;
  s.mh.msg_iov = reinterpret_cast<iovec*>(kStubScratch + offsetof(decltype(s), iov));
  s.mh.msg_iovlen = 1;
  s.mh.msg_control = reinterpret_cast<void*>(kStubScratch + offsetof(decltype(s), control));
  s.mh.msg_controllen = CMSG_SPACE(sizeof(int));
  iovec l{&s, sizeof s}, rm{reinterpret_cast<void*>(kStubScratch), sizeof s};
  if (process_vm_writev(t.tid, &l, 1, &rm, 1, 0) != static_cast<ssize_t>(sizeof s)) ThrowErrno(env, errno, "passFd: scratch page");
  uint64_t args[6] = {static_cast<uint64_t>(sb.stubCtlFd), kStubScratch, 0, 0, 0, 0};
  int64_t res = Inject(env, t, SYS_recvmsg, args, nullptr, nullptr);
  if (res < 0) {
    // The message is still queued: take it back so a later passFd does not receive this fd.
    alignas(cmsghdr) char back[CMSG_SPACE(sizeof(int))];
    char b;
    iovec biov{&b, 1};
    msghdr bm{};
    bm.msg_iov = &biov;
    bm.msg_iovlen = 1;
    bm.msg_control = back;
    bm.msg_controllen = sizeof back;
    if (recvmsg(sb.stubEnd, &bm, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) > 0)
      for (cmsghdr* c = CMSG_FIRSTHDR(&bm); c; c = CMSG_NXTHDR(&bm, c))
        if (c->cmsg_type == SCM_RIGHTS) {
          int got;
          memcpy(&got, CMSG_DATA(c), sizeof got);
          close(got);
        }
    return Napi::Number::New(env, static_cast<double>(res));
  }
  if (process_vm_readv(t.tid, &l, 1, &rm, 1, 0) != static_cast<ssize_t>(sizeof s)) ThrowErrno(env, errno, "passFd: scratch page");
  msghdr back = s.mh;
  back.msg_control = s.control;
  cmsghdr* got = CMSG_FIRSTHDR(&back);
  if (!got || got->cmsg_type != SCM_RIGHTS) Throw(env, "EIO", "passFd: no descriptor arrived");
  int stubFd;
  memcpy(&stubFd, CMSG_DATA(got), sizeof stubFd);
  return Napi::Number::New(env, stubFd);
}

void Addon::ReapAfterKill(Napi::Env, const std::vector<pid_t>& tids) {
  // Non-leaders first: a thread-group leader reports its death only after its threads.
  std::vector<pid_t> order;
  for (pid_t tid : tids) {
    auto it = tasks_.find(tid);
    if (it != tasks_.end() && it->second.tgid != tid) order.push_back(tid);
  }
  for (pid_t tid : tids) {
    auto it = tasks_.find(tid);
    if (it == tasks_.end() || it->second.tgid == tid) order.push_back(tid);
  }
  for (pid_t tid : order) {
    auto it = tasks_.find(tid);
    bool running = it != tasks_.end() && it->second.state == State::Running;
    if (it != tasks_.end() && it->second.state == State::Dead) continue;
    if (running && it->second.deathReaped) continue;
    if (!running && it != tasks_.end() && !it->second.pending.empty() && it->second.pending.back().code >= kExited) continue;
    // A running task's wait belongs to a helper thread, but the helper may already have returned
    // with a stop from before the kill (its result still queued for this thread). Then nobody
    // would reap the death, and a leader's death is reported only after all its threads are
    // reaped: the wait for the leader below would never return. So wait here too: one of the two
    // waits gets the death, the other ECHILD.
    int status = 0;
    pid_t r;
    do r = waitpid(tid, &status, __WALL);
    while (r < 0 && errno == EINTR);
    // A stop that was already queued before the SIGKILL: wait again for the death itself.
    while (r == tid && WIFSTOPPED(status)) {
      do r = waitpid(tid, &status, __WALL);
      while (r < 0 && errno == EINTR);
    }
    if (it == tasks_.end()) continue;
    if (running) {
      // The helper's result reports the death (see HandleAsync); the task stays running until then.
      if (r == tid) {
        it->second.deathReaped = true;
        it->second.deathStatus = status;
      }
      continue;
    }
    Pending p;
    p.code = (r == tid && WIFEXITED(status)) ? kExited : kKilled;
    p.info[1] = (r == tid && WIFEXITED(status)) ? WEXITSTATUS(status) : (r == tid ? WTERMSIG(status) : SIGKILL);
    it->second.pending.clear();
    it->second.pending.push_back(p);
    it->second.state = State::Stopped;
  }
}

// kill(tid): SIGKILL the task's whole host process and collect the deaths of its stopped tasks.
Napi::Value Addon::Kill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = TaskArg(info, 0);
  pid_t tgid = t.tgid;
  std::vector<pid_t> tids;
  for (auto& [tid, task] : tasks_)
    if (task.tgid == tgid) tids.push_back(tid);
  kill(tgid, SIGKILL);
  ReapAfterKill(env, tids);
  return env.Undefined();
}

// killSandbox(tid): SIGKILL every host process created from the same stub.
Napi::Value Addon::KillSandbox(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = TaskArg(info, 0);
  int id = t.sandbox;
  std::vector<pid_t> tids;
  for (auto& [tid, task] : tasks_)
    if (task.sandbox == id) {
      tids.push_back(tid);
      if (task.tgid == tid) kill(tid, SIGKILL);
    }
  ReapAfterKill(env, tids);
  return env.Undefined();
}

// forget(tid) -> event code: drops a dead task's record and writes its death (exited/killed)
// into the info array, so a task reaped by kill() leaves nothing behind.
Napi::Value Addon::Forget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = TaskArg(info, 0);
  bool dead = !t.pending.empty() && t.pending.back().code >= kExited;
  if (!dead) Throw(env, "EBUSY", "forget: task " + std::to_string(t.tid) + " is not dead");
  Pending p = t.pending.back();
  memcpy(info_, p.info, sizeof p.info);
  info_[0] = p.code;
  EraseTask(t.tid);
  return Napi::Number::New(env, p.code);
}

// reapStopped() -> [tid, ...]: the stopped tasks (none of their events awaited) that died, killed
// from outside the supervisor (the host's OOM killer, a kill -9 of a stub process). Nothing else
// waits for them, and their process's leader, even a running one, is reported dead only once they
// are reaped. Each death is queued as the task's next event; a task whose death is queued and not
// yet taken is listed again (several platforms share this table, each takes its own tasks).
Napi::Value Addon::ReapStopped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckTracer(env);
  if (haveOrphans_.load(std::memory_order_relaxed)) DrainOrphans();
  std::vector<pid_t> order;  // non-leaders first, so a leader whose threads all died goes too
  for (auto& [tid, t] : tasks_)
    if (t.tgid != tid) order.push_back(tid);
  for (auto& [tid, t] : tasks_)
    if (t.tgid == tid) order.push_back(tid);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (pid_t tid : order) {
    auto it = tasks_.find(tid);
    if (it == tasks_.end()) continue;
    Task& t = it->second;
    if (t.state != State::Stopped) continue;
    if (!t.pending.empty() && t.pending.back().code >= kExited) {
      out.Set(n++, Napi::Number::New(env, tid));
      continue;
    }
    int status = 0;
    pid_t r;
    do r = waitpid(tid, &status, __WALL | WNOHANG);
    while (r < 0 && errno == EINTR);
    // A stopped task has no stop left to report: only a death can come back.
    if (r != tid || !(WIFEXITED(status) || WIFSIGNALED(status))) continue;
    Pending p;
    p.code = WIFEXITED(status) ? kExited : kKilled;
    p.info[1] = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
    p.info[2] = WIFSIGNALED(status) && WCOREDUMP(status) ? 1 : 0;
    t.pending.clear();
    t.pending.push_back(p);
    out.Set(n++, Napi::Number::New(env, tid));
  }
  return out;
}

// taskInfo(tid) -> [tgid, sandbox id, state (0 stopped, 1 running, 2 dead)]
Napi::Value Addon::TaskInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Task& t = TaskArg(info, 0);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0U, Napi::Number::New(env, t.tgid));
  out.Set(1U, Napi::Number::New(env, t.sandbox));
  out.Set(2U, Napi::Number::New(env, t.state == State::Stopped ? 0 : t.state == State::Running ? 1 : 2));
  return out;
}

// Forgets a task; when it was its sandbox's last, closes the sandbox's fd-passing socket.
void Addon::EraseTask(pid_t tid) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return;
  int id = it->second.sandbox;
  tasks_.erase(it);
  for (auto& [other, task] : tasks_)
    if (task.sandbox == id) return;
  auto sb = sandboxes_.find(id);
  if (sb == sandboxes_.end()) return;
  close(sb->second.ctlFd);
  close(sb->second.stubEnd);
  sandboxes_.erase(sb);
}

void Addon::KillAll() {
  for (auto& [tid, task] : tasks_)
    if (task.tgid == tid) kill(tid, SIGKILL);
}

}  // namespace

NODE_API_ADDON(Addon)
