// LocalRunner with real processes and real cgroups: a task is all of its
// processes (a setsid child included), a stop ends all of them, and a
// runner that follows a dead one ends what that one left and reports it
// lost (the cgroup tests are skipped where cgroups cannot be written: not
// root); and the ledger of started attempts that keeps each to one run
// across an agent's death.
#include "control/agent/local_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "control/agent/task_cgroups.h"
#include "control/agent/task_ledger.h"

namespace stargate::control {
namespace {

// Polls until the task is reported ended (5 s at most).
std::optional<TaskReport> AwaitEnd(LocalRunner& r, TaskRef ref, Time now) {
  for (int i = 0; i < 500; ++i) {
    for (const TaskReport& t : r.Poll("n", now)) {
      if (t.task == ref && !t.running) return t;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

// A fresh work dir, removed at the end.
class WorkDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sg-ledger-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "logs");
    node_.name = "n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  NodeInfo node_;
};

TEST_F(WorkDir, TheLedgerKeepsStartsAndEndsUntilDropped) {
  const std::filesystem::path dir = dir_ / "task-ledger";
  // What an agent from before the journal left: a start, an end, a start
  // cut off, a half-written end's temporary file; and a stranger.
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "job-6-attempt-1").flush();
  std::ofstream(dir / "job-7-attempt-1") << "ended 2 0\n";
  std::ofstream(dir / "job-5-attempt-1.tmp") << "ended 0";
  std::ofstream(dir / "notes") << "ended 0 0\n";
  TaskLedger ledger(dir.string());
  ASSERT_TRUE(ledger.Begin({5, 1}).ok());
  ASSERT_TRUE(ledger.Begin({5, 2}).ok());
  ledger.Ended({5, 2}, {3, 0});
  ASSERT_TRUE(ledger.Begin({9, 1}).ok());
  ledger.Ended({9, 1}, {0, 9});
  ledger.Drop({9, 1});
  ledger.Ended({7, 1}, {2, 0});
  ledger.Drop({7, 1});
  // A last line cut by a power loss is not read.
  std::ofstream(dir / "journal", std::ios::app) << "end job-5-attempt-1 0";
  const std::vector<TaskLedger::Entry> got = ledger.Load();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].task, (TaskRef{5, 1}));
  EXPECT_FALSE(got[0].end.has_value());
  EXPECT_EQ(got[1].task, (TaskRef{5, 2}));
  ASSERT_TRUE(got[1].end.has_value());
  EXPECT_EQ(got[1].end->exit_code, 3);
  EXPECT_EQ(got[2].task, (TaskRef{6, 1}));
  EXPECT_FALSE(got[2].end.has_value());
  // The old files were folded into the journal; the stranger stays.
  std::vector<std::string> files;
  for (const auto& f : std::filesystem::directory_iterator(dir)) files.push_back(f.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"journal", "notes"}));
}

// One file however many tasks pass (a file made and removed per task made
// every create on a journal-less ext4 scan the inodes freed in the last
// ~30 s), rewritten short when most of it is dropped attempts.
TEST_F(WorkDir, TheLedgerIsOneJournalRewrittenWhenMostlyDropped) {
  const std::filesystem::path dir = dir_ / "task-ledger";
  TaskLedger ledger(dir.string());
  ASSERT_TRUE(ledger.Begin({1, 1}).ok());  // still running throughout
  size_t most = 0;
  for (int64_t job = 2; job < 3000; ++job) {
    ASSERT_TRUE(ledger.Begin({job, 1}).ok());
    ledger.Ended({job, 1}, {0, 0});
    ledger.Drop({job, 1});
    most = std::max(most, ledger.JournalLines());
  }
  EXPECT_LE(most, 1026u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  ASSERT_TRUE(ledger.Begin({3000, 2}).ok());
  // What another agent reads after this one is killed.
  const std::vector<TaskLedger::Entry> got = TaskLedger(dir.string()).Load();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].task, (TaskRef{1, 1}));
  EXPECT_EQ(got[1].task, (TaskRef{3000, 2}));
  EXPECT_FALSE(got[1].end.has_value());
}

// A write cut short (a full disk) leaves part of a line: the next record
// is not glued to it (and lost with it). A journal that cannot be read is
// not taken for an empty one: nothing starts.
TEST_F(WorkDir, TheLedgerSurvivesACutWriteAndRefusesAnUnreadableJournal) {
  const std::filesystem::path dir = dir_ / "task-ledger";
  {
    TaskLedger ledger(dir.string());
    ASSERT_TRUE(ledger.Begin({1, 1}).ok());
    const auto size = std::filesystem::file_size(dir / "journal");
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    const sighandler_t was = signal(SIGXFSZ, SIG_IGN);
    rlimit cut = old;
    cut.rlim_cur = size + 10;  // room for 10 bytes of the next line
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &cut), 0);
    const bool begun = ledger.Begin({2, 1}).ok();
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, was);
    EXPECT_FALSE(begun);
    EXPECT_EQ(std::filesystem::file_size(dir / "journal"), size + 10);  // the fragment is there
    ASSERT_TRUE(ledger.Begin({3, 1}).ok());
    const std::vector<TaskLedger::Entry> got = TaskLedger(dir.string()).Load();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].task, (TaskRef{1, 1}));
    EXPECT_EQ(got[1].task, (TaskRef{3, 1}));
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // There, and it will not open (a socket: ENXIO); a rename would replace it.
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = (dir / "journal").string();
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  close(sock);
  EXPECT_FALSE(TaskLedger(dir.string()).Begin({4, 1}).ok());
  EXPECT_TRUE(std::filesystem::is_socket(dir / "journal"));
}

// An agent killed after its task ended and before the server heard of it:
// the next one reports that end and does not run the attempt again when
// the server, not having heard, hands it out once more.
TEST_F(WorkDir, TheNextRunnerReportsAnEndItsPredecessorNeverTold) {
  const TaskRef ref{11, 1};
  TaskLaunch t;
  t.task = ref;
  t.command = "echo ran >> " + (dir_ / "runs").string() + "; exit 3";
  {
    LocalRunner first(node_, dir_.string(), Duration::Seconds(1));
    first.Start("n", t);
    const std::optional<TaskReport> end = AwaitEnd(first, ref, Time::FromMillis(0));
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(end->exit_code, 3);
  }  // "dies" before the server said forget
  LocalRunner second(node_, dir_.string(), Duration::Seconds(1));
  for (int i = 0; i < 100 && second.EndLeftovers("n") > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  second.Start("n", t);  // the server asks again
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::vector<TaskReport> seen = second.Poll("n", Time::FromMillis(0));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].running);
  EXPECT_FALSE(seen[0].lost);
  EXPECT_EQ(seen[0].exit_code, 3);
  std::ifstream runs(dir_ / "runs");
  std::string all((std::istreambuf_iterator<char>(runs)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "ran\n");
  second.Forget("n", ref);
  EXPECT_TRUE(second.Poll("n", Time::FromMillis(0)).empty());
  EXPECT_TRUE(std::filesystem::exists(LocalRunner::LedgerDir("n", dir_.string()) + "/journal"));
  EXPECT_TRUE(TaskLedger(LocalRunner::LedgerDir("n", dir_.string())).Load().empty());
}

// One that started and has no end recorded (the agent died at once) is
// lost: reported so, and never started again.
TEST_F(WorkDir, AStartWithNoRecordedEndIsLost) {
  ASSERT_TRUE(TaskLedger(LocalRunner::LedgerDir("n", dir_.string())).Begin({12, 4}).ok());
  // Another node's agent sharing the work dir has its own ledger: not ours to report.
  ASSERT_TRUE(TaskLedger(LocalRunner::LedgerDir("m", dir_.string())).Begin({13, 1}).ok());
  LocalRunner runner(node_, dir_.string(), Duration::Seconds(1));
  for (int i = 0; i < 100 && runner.EndLeftovers("n") > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  TaskLaunch t;
  t.task = {12, 4};
  t.command = "touch " + (dir_ / "ran").string();
  runner.Start("n", t);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::vector<TaskReport> seen = runner.Poll("n", Time::FromMillis(0));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].lost);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ran"));
}

// A command with no shell syntax is exec'd without bash, one with any
// (or a program not on PATH, a builtin) through bash: the same exits and
// output either way.
TEST_F(WorkDir, CommandsRunWithOrWithoutAShellAlike) {
  node_.accelerators = 8;
  LocalRunner runner(node_, dir_.string(), Duration::Seconds(1));
  const Time now = Time::FromMillis(1'000'000);
  struct Case {
    std::string command;
    int exit_code;
    std::string output;  // the log holds it
  };
  const Case cases[] = {
      {"printenv _", 0, "no shell"},                       // direct: bash would have set $_ to the program's path
      {"printf direct:%s,%s a b", 0, "direct:a,b"},        // direct: /usr/bin/printf
      {"false", 1, ""},                                    // direct
      {"/bin/sh -c exit:3", 127, "exit:3"},                // direct, sh's own error
      {"printf '%s' \"$((2 + 3))\"", 0, "5"},              // quotes and $: bash
      {"no-such-program-here", 127, "command not found"},  // not on PATH: bash says so
      {"exit 4", 4, ""},                                   // a builtin: bash
      {"A=1 printenv A", 0, "1"},                          // a variable first: bash
  };
  uint64_t job = 1;
  for (const Case& c : cases) {
    TaskLaunch t;
    t.task = TaskRef{job++, 1};
    t.command = c.command;
    t.env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    t.env["_"] = "no shell";
    runner.Start("n", t);
    const std::optional<TaskReport> end = AwaitEnd(runner, t.task, now);
    ASSERT_TRUE(end.has_value()) << c.command;
    EXPECT_EQ(end->exit_code, c.exit_code) << c.command;
    std::ifstream log(dir_ / "logs" / TaskLogName(t.task));
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find(c.output), std::string::npos) << c.command << ": " << text;
  }
}

// Shares of one device (STARGATE_GPU_SHARE_SLOT): the tasks of one slot
// get one device; another slot gets its own, not a whole task's.
TEST_F(WorkDir, SharesOfASlotGetOneDevice) {
  node_.accelerators = 4;
  node_.accelerator = AcceleratorType::kH100;
  LocalRunner runner(node_, dir_.string(), Duration::Seconds(1));
  const Time now = Time::FromMillis(1'000'000);
  struct Case {
    std::string per_node, slot, devices;
  };
  const Case cases[] = {{"1", "", "0"}, {"1", "0", "1"}, {"1", "0", "1"}, {"1", "1", "2"}, {"1", "x", "3"}};
  std::vector<TaskRef> refs;
  uint64_t job = 1;
  for (const Case& c : cases) {
    TaskLaunch t;
    t.task = TaskRef{job++, 1};
    t.command = "printf 'devices=%s.' \"$STARGATE_DEVICES\"; sleep 2";
    t.env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    t.env["STARGATE_ACCELERATORS_PER_NODE"] = c.per_node;
    t.env["STARGATE_GPU_SHARE_SLOT"] = c.slot;
    runner.Start("n", t);
    refs.push_back(t.task);
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    ASSERT_TRUE(AwaitEnd(runner, refs[i], now).has_value()) << i;
    std::ifstream log(dir_ / "logs" / TaskLogName(refs[i]));
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("devices=" + cases[i].devices + "."), std::string::npos) << i << ": " << text;
  }
}

// A share told to stop (a node the server gave up on, whose slot number it
// reopened) is never joined: the new share of that slot gets a device of
// its own, the slot's next share follows the new one, and the leaving
// share's device goes to a new task only when no other is free.
TEST_F(WorkDir, ANewShareNeverJoinsOneToldToStop) {
  node_.accelerators = 3;
  node_.accelerator = AcceleratorType::kH100;
  LocalRunner runner(node_, dir_.string(), Duration::Seconds(30));
  const Time now = Time::FromMillis(1'000'000);
  uint64_t job = 1;
  auto start = [&](const std::string& per_node, const std::string& slot, const std::string& wait) {
    TaskLaunch t;
    t.task = TaskRef{job++, 1};
    // Deaf to SIGTERM: the stale share stays for its whole grace.
    t.command = "trap '' TERM; printf 'devices=%s.' \"$STARGATE_DEVICES\"; " + wait;
    t.env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    t.env["STARGATE_ACCELERATORS_PER_NODE"] = per_node;
    t.env["STARGATE_GPU_SHARE_SLOT"] = slot;
    runner.Start("n", t);
    return t.task;
  };
  auto devices_of = [&](TaskRef ref) {
    for (int i = 0; i < 200; ++i) {
      std::ifstream log(dir_ / "logs" / TaskLogName(ref));
      const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      const size_t at = text.find("devices=");
      if (at != std::string::npos && text.find('.', at) != std::string::npos) {
        return text.substr(at + 8, text.find('.', at) - at - 8);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::string("?");
  };
  const TaskRef stale = start("1", "0", "sleep 5");
  ASSERT_EQ(devices_of(stale), "0");
  runner.Stop("n", stale, now, Duration::Seconds(30));  // SIGTERM, ignored
  const TaskRef fresh = start("1", "0", "sleep 1");
  EXPECT_EQ(devices_of(fresh), "1");
  const TaskRef next = start("1", "0", "sleep 1");
  EXPECT_EQ(devices_of(next), "1");
  // Two devices wanted, one free: the leaving share's comes second.
  const TaskRef whole = start("2", "", "sleep 1");
  EXPECT_EQ(devices_of(whole), "0,2");
  runner.Stop("n", stale, now + Duration::Seconds(31), Duration::Seconds(30));  // SIGKILL
  for (TaskRef ref : {stale, fresh, next, whole}) EXPECT_TRUE(AwaitEnd(runner, ref, now).has_value()) << ref.job;
}

TEST(TenantUsers, NamesNeverCollide) {
  EXPECT_EQ(TenantUsers::UserName("ml-team"), "sg-ml-team");
  EXPECT_NE(TenantUsers::UserName("Acme"), TenantUsers::UserName("acme"));
  EXPECT_LE(TenantUsers::UserName(std::string(32, 'x')).size(), 32u);
  EXPECT_NE(TenantUsers::UserName(std::string(32, 'x')), TenantUsers::UserName(std::string(31, 'x')));
}

// A tenant owns its area, so it may plant a symlink where the agent will
// make the next job's dir: the agent must refuse it, not chown through it.
TEST(TenantUsers, MakePrivateNeverFollowsASymlink) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
  const std::filesystem::path area = std::filesystem::temp_directory_path() / ("sg-area-" + std::to_string(getpid()));
  const std::filesystem::path victim = area.string() + "-victim";
  std::filesystem::create_directories(area / "jobs");
  std::filesystem::create_directories(victim);
  std::filesystem::create_symlink(victim, area / "jobs" / "5");
  const Account nobody{"nobody", 65534, 65534};
  EXPECT_FALSE(TenantUsers::MakePrivate(area.string(), (area / "jobs" / "5" / "x").string(), nobody).ok());
  struct stat st {};
  ASSERT_EQ(stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_TRUE(TenantUsers::MakePrivate(area.string(), (area / "jobs" / "6" / "x").string(), nobody).ok());
  ASSERT_EQ(stat((area / "jobs" / "6" / "x").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  ASSERT_EQ(stat(area.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::filesystem::remove_all(area);
  std::filesystem::remove_all(victim);
}

TEST(CgroupName, RoundTrips) {
  EXPECT_EQ(CgroupName({12, 3}), "job-12-attempt-3");
  EXPECT_EQ(ParseCgroupName("job-12-attempt-3"), (TaskRef{12, 3}));
  EXPECT_FALSE(ParseCgroupName("job-12-attempt-").has_value());
  EXPECT_FALSE(ParseCgroupName("job--attempt-1").has_value());
  EXPECT_FALSE(ParseCgroupName("cgroup.procs").has_value());
  EXPECT_FALSE(ParseCgroupName("job-1x-attempt-2").has_value());
}

class LocalRunnerCgroups : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (geteuid() != 0 || TaskCgroups::Open("/sys/fs/cgroup", "probe-" + std::to_string(getpid()), &why) == nullptr) {
      GTEST_SKIP() << "no writable cgroups: " << why;
    }
    dir_ = std::filesystem::temp_directory_path() / ("sg-runner-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "logs");
    node_.name = "n";
    node_.accelerators = 1;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A task that starts a child in a new session (out of its process
  // group), writes the child's pid, and waits.
  TaskLaunch Escaper(TaskRef ref) const {
    TaskLaunch t;
    t.task = ref;
    t.command = "setsid sleep 300 & echo $! > " + (dir_ / "child.pid").string() + "; sleep 300";
    return t;
  }
  int ChildPid() const {
    for (int i = 0; i < 500; ++i) {
      std::ifstream f(dir_ / "child.pid");
      int pid = 0;
      // Once it leads its own session: out of the task's process group.
      if (f >> pid && pid > 0 && getsid(pid) == pid) return pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  static bool Alive(int pid) {
    if (kill(pid, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    std::getline(stat, s);
    return s.find(") Z ") == std::string::npos;  // a zombie is dead
  }
  std::filesystem::path dir_;
  NodeInfo node_;
};

TEST_F(LocalRunnerCgroups, AStopEndsEveryProcessOfTheTask) {
  LocalRunner runner(node_, dir_.string(), Duration::Seconds(1));
  const TaskRef ref{1, 1};
  runner.Start("n", Escaper(ref));
  const int child = ChildPid();
  ASSERT_GT(child, 0);
  const Time t0 = Time::FromMillis(1'000'000);
  runner.Stop("n", ref, t0, Duration::Zero());  // SIGTERM to the group: the setsid child is not in it
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Alive(child));
  for (const TaskReport& t : runner.Poll("n", t0)) EXPECT_TRUE(t.running) << "ended with a process left";
  runner.Stop("n", ref, t0 + Duration::Seconds(2), Duration::Zero());  // past the grace: the whole cgroup
  ASSERT_TRUE(AwaitEnd(runner, ref, t0).has_value());
  EXPECT_FALSE(Alive(child));
}

// A preemption's warning replaces the runner's grace: SIGKILL comes when
// the warning ends, not before (however short the runner's own grace).
TEST_F(LocalRunnerCgroups, APreemptionsWarningOutlastsTheRunnersGrace) {
  LocalRunner runner(node_, dir_.string(), Duration::Seconds(1));
  const TaskRef ref{2, 1};
  runner.Start("n", Escaper(ref));
  const int child = ChildPid();
  ASSERT_GT(child, 0);
  const Time t0 = Time::FromMillis(1'000'000);
  const Duration warning = Duration::Seconds(5);
  runner.Stop("n", ref, t0, warning);
  runner.Stop("n", ref, t0 + Duration::Seconds(2), warning);  // past the runner's grace, within the warning
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Alive(child));
  for (const TaskReport& t : runner.Poll("n", t0)) EXPECT_TRUE(t.running) << "killed before its warning ended";
  runner.Stop("n", ref, t0 + Duration::Seconds(6), warning);
  ASSERT_TRUE(AwaitEnd(runner, ref, t0).has_value());
  EXPECT_FALSE(Alive(child));
}

TEST_F(LocalRunnerCgroups, TheNextRunnerEndsWhatADeadOneLeft) {
  const TaskRef ref{7, 2};
  int child = -1;
  {
    LocalRunner first(node_, dir_.string(), Duration::Seconds(1));
    first.Start("n", Escaper(ref));
    child = ChildPid();
    ASSERT_GT(child, 0);
  }  // "dies": nothing stopped
  ASSERT_TRUE(Alive(child));
  LocalRunner second(node_, dir_.string(), Duration::Seconds(1));
  int left = 1;
  for (int i = 0; i < 500 && left > 0; ++i) {
    left = second.EndLeftovers("n");
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(left, 0);
  for (int i = 0; i < 100 && Alive(child); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(Alive(child));
  const std::vector<TaskReport> seen = second.Poll("n", Time::FromMillis(0));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].task, ref);
  EXPECT_FALSE(seen[0].running);
  EXPECT_TRUE(seen[0].lost);
  second.Forget("n", ref);
  EXPECT_TRUE(second.Poll("n", Time::FromMillis(0)).empty());
}

// resources.memory is the task cgroup's limit: past it the kernel kills it.
TEST_F(LocalRunnerCgroups, MemoryLimitsHold) {
  LocalRunner runner(node_, dir_.string(), Duration::Seconds(1));
  TaskLaunch t;
  t.task = {3, 1};
  t.command = "head -c 300m /dev/zero | tail > /dev/null";  // tail holds it all in memory
  t.memory_bytes = 64 << 20;
  runner.Start("n", t);
  const std::optional<TaskReport> end = AwaitEnd(runner, t.task, Time::FromMillis(0));
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->signal == SIGKILL || end->exit_code != 0) << end->exit_code << " " << end->signal;
  TaskLaunch ok = t;
  ok.task = {4, 1};
  ok.command = "head -c 16m /dev/zero | tail > /dev/null";
  runner.Start("n", ok);
  const std::optional<TaskReport> fine = AwaitEnd(runner, ok.task, Time::FromMillis(0));
  ASSERT_TRUE(fine.has_value());
  EXPECT_EQ(fine->exit_code, 0);
  EXPECT_EQ(fine->signal, 0);
}

}  // namespace
}  // namespace stargate::control
