#include "workload/trace_reader.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/rng.h"

namespace stargate {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadFixture(const std::string& name) {
  const std::string path = std::string(STARGATE_SOURCE_DIR) + "/tests/fixtures/traces/" + name;
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TraceSpec Spec(TraceFormat format) {
  TraceSpec spec;
  spec.format = format;
  return spec;
}

// What one parsed job should look like.
struct Want {
  std::string name;
  int64_t submit_s;
  int64_t duration_s;
  int gpus;
  std::string tenant;
};

void ExpectJobs(const std::vector<JobSpec>& got, const std::vector<Want>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].name);
    EXPECT_EQ(got[i].name, want[i].name);
    EXPECT_EQ(got[i].submit, Time::Epoch() + Duration::Seconds(want[i].submit_s));
    EXPECT_EQ(got[i].duration, Duration::Seconds(want[i].duration_s));
    EXPECT_EQ(got[i].accelerator_count, want[i].gpus);
    EXPECT_EQ(got[i].tenant, want[i].tenant);
    EXPECT_EQ(got[i].kind, JobKind::kBatch);
  }
}

std::string ErrorOf(std::string_view text, TraceFormat format, const std::string& file) {
  const auto jobs = ParseTrace(text, file, Spec(format));
  if (jobs.ok()) return "<ok>";
  EXPECT_EQ(jobs.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(jobs.status().message());
}

// ---------------------------------------------------------------- Philly

TEST(PhillyTraceTest, ParsesFixture) {
  TraceStats stats;
  const auto jobs =
      ParseTrace(ReadFixture("philly_small.json"), "philly_small.json", Spec(TraceFormat::kPhilly), &stats);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.rows, 12);
  EXPECT_EQ(stats.jobs, 7);
  EXPECT_EQ(stats.skipped, 5);  // no attempts, no start, zero run, still running, no GPUs
  ExpectJobs(*jobs, {
                        {"application_1506638472019_10000", 0, 3600, 16, "b436b2"},
                        {"application_1506638472019_14199", 699, 193182, 8, "ee9e8c"},  // last attempt only
                        {"application_1506638472019_30004", 3600, 60, 2, "0e4a51"},     // null submit: start
                        {"application_1506638472019_30001", 7200, 30, 1, "u1"},         // empty vc: user
                        {"application_1506638472019_30005", 10740, 5400, 8, "ee9e8c"},
                        {"application_1506638472019_30002", 82800, 1200, 4, "0e4a51"},  // failed, but ran
                        {"application_1506638472019_30003", 7426799, 10, 1, "0e4a51"},  // across new year
                    });
}

TEST(PhillyTraceTest, SyntaxErrorNamesItsLine) {
  const std::string text = "[\n  {\"jobid\": \"a\",\n   \"user\" \"x\"}\n]\n";
  EXPECT_THAT(ErrorOf(text, TraceFormat::kPhilly, "bad.json"), StartsWith("bad.json:3: json:"));
}

TEST(PhillyTraceTest, BadFieldNamesTheJobsLineAndField) {
  const std::string text =
      "[\n"
      "  {\"jobid\": \"a\", \"attempts\": []},\n"
      "  {\"jobid\": \"b\",\n"
      "   \"submitted_time\": \"2017-13-01 00:00:00\"}\n"
      "]";
  EXPECT_THAT(ErrorOf(text, TraceFormat::kPhilly, "bad.json"),
              StartsWith("bad.json:3: submitted_time: expected \"YYYY-MM-DD HH:MM:SS\""));
}

TEST(PhillyTraceTest, MalformedJobsAreErrors) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"{\"jobid\": \"a\"}", "t.json:1: json: expected an array of jobs"},
      {"[1]", "t.json:1: job: expected an object"},
      {"[{\"user\": \"u\"}]", "t.json:1: jobid: missing"},
      {"[{\"jobid\": 7}]", "t.json:1: jobid: expected a string"},
      {"[{\"jobid\": \"a\", \"attempts\": {}}]", "t.json:1: attempts: expected an array"},
      {"[{\"jobid\": \"a\", \"attempts\": [{\"start_time\": 5}]}]",
       "t.json:1: attempts[0].start_time: expected a date-time string"},
      {"[{\"jobid\": \"a\", \"attempts\": [{\"detail\": [{\"gpus\": 8}]}]}]",
       "t.json:1: attempts[0].detail[0].gpus: expected an array"},
      {"[\n{\"jobid\": \"a\"},\n\n{\"jobid\": \"b\", \"attempts\": [{\"end_time\": \"later\"}]}]",
       "t.json:4: attempts[0].end_time: expected"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ErrorOf(c.text, TraceFormat::kPhilly, "t.json"), StartsWith(c.error)) << c.text;
  }
}

TEST(PhillyTraceTest, EmptyInputGivesNoJobs) {
  for (const char* text : {"", " \n\t\r\n", "[]", "[\n]"}) {
    TraceStats stats;
    const auto jobs = ParseTrace(text, "e.json", Spec(TraceFormat::kPhilly), &stats);
    ASSERT_TRUE(jobs.ok()) << text;
    EXPECT_TRUE(jobs->empty());
    EXPECT_EQ(stats.rows, 0);
  }
}

TEST(PhillyTraceTest, DeepNestingDoesNotCrash) {
  const std::string text = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(ErrorOf(text, TraceFormat::kPhilly, "deep.json"), HasSubstr("expected an object"));
}

// ---------------------------------------------------------------- PAI

TEST(PaiTraceTest, ParsesFixture) {
  TraceStats stats;
  const auto jobs =
      ParseTrace(ReadFixture("pai_task_small.csv"), "pai_task_small.csv", Spec(TraceFormat::kAlibabaPai), &stats);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.rows, 17);
  EXPECT_EQ(stats.jobs, 8);
  EXPECT_EQ(stats.skipped, 5);  // waiting, start 0, CPU-only, running, zero run
  ExpectJobs(*jobs, {
                        {"0718293a4b5c6d7e8f90a1b2", 0, 60, 2, "default"},     // 200% = 2 GPUs
                        {"4f057009a5d481acec67b088", 100, 600, 1, "default"},  // 50% rounds up to 1
                        {"a1b2c3d4e5f60718293a4b5c", 600, 7200, 16, "default"},
                        {"6d2c8a0e1f3b4c5d6e7f8091", 1100, 3600, 4, "default"},   // ps has no GPU
                        {"f60718293a4b5c6d7e8f90a1", 3100, 300, 2, "default"},    // rows apart
                        {"18293a4b5c6d7e8f90a1b2c3", 4100, 42, 1, "default"},     // quoted fields
                        {"3a4b5c6d7e8f90a1b2c3d4e5", 6100, 86400, 4, "default"},  // ceil(2x1.5)+ceil(.3)
                        {"4b5c6d7e8f90a1b2c3d4e5f6", 7100, 100, 1, "default"},    // waiting ps ignored
                    });
  // Less than one GPU in all is a share of one device, as PAI meant it.
  EXPECT_EQ(stats.shared, 1);
  EXPECT_EQ((*jobs)[1].share_milli, 500);
  EXPECT_EQ((*jobs)[4].share_milli, 0);  // 3 x 25% + 33%: more than one GPU
  EXPECT_EQ((*jobs)[5].share_milli, 0);
}

TEST(PaiTraceTest, AcceptsHeaderLine) {
  const std::string text =
      "job_name,task_name,inst_num,status,start_time,end_time,plan_cpu,plan_mem,plan_gpu,"
      "gpu_type\r\n"
      "j1,worker,1.0,Terminated,10.0,70.0,600.0,8.0,100.0,T4\r\n";
  TraceStats stats;
  const auto jobs = ParseTrace(text, "p.csv", Spec(TraceFormat::kAlibabaPai), &stats);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.rows, 1);
  ExpectJobs(*jobs, {{"j1", 0, 60, 1, "default"}});
}

TEST(PaiTraceTest, MalformedRowsAreErrorsWithLines) {
  const std::string ok = "j1,worker,1.0,Terminated,10.0,70.0,600.0,8.0,100.0,T4\n";
  const struct {
    std::string text;
    const char* error;
  } cases[] = {
      {ok + "j2,worker,1.0,Terminated,10.0\n", "p.csv:2: row: expected 10 fields"},
      {ok + ok + "j3,worker,abc,Terminated,10.0,70.0,600.0,8.0,100.0,T4\n", "p.csv:3: inst_num: expected a number"},
      {ok + "j4,worker,1.0,Terminated,10.0,70.0,600.0,8.0,-50.0,T4\n", "p.csv:2: plan_gpu: expected a number"},
      {ok + "j5,worker,1.0,Terminated,soon,70.0,600.0,8.0,100.0,T4\n", "p.csv:2: start_time: expected seconds"},
      {ok + ",worker,1.0,Terminated,10.0,70.0,600.0,8.0,100.0,T4\n", "p.csv:2: job_name: empty"},
      {ok + "j6,\"worker,1.0,Terminated,10.0,70.0,600.0,8.0,100.0,T4\n", "p.csv:2: csv: unterminated quoted field"},
      {ok + "j7,worker,1000000.0,Terminated,10.0,70.0,600.0,8.0,1000000.0,T4\n",
       "p.csv:2: plan_gpu: inst_num x plan_gpu asks for"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ErrorOf(c.text, TraceFormat::kAlibabaPai, "p.csv"), StartsWith(c.error)) << c.text;
  }
}

// With pai_job_table: submits and users from it, the rest as without.
TEST(PaiTraceTest, JoinsTheJobTable) {
  const std::string table_text = ReadFixture("pai_job_small.csv");
  const TraceText table{table_text, "pai_job_small.csv"};
  TraceStats stats;
  const auto jobs = ParseTrace(ReadFixture("pai_task_small.csv"), "pai_task_small.csv", Spec(TraceFormat::kAlibabaPai),
                               &stats, &table);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.jobs, 8);
  EXPECT_EQ(stats.joined, 6);
  EXPECT_EQ(stats.unjoined, 2);  // start_time 0; not in the job table
  // The earliest submit, 700 s, is time 0.
  ExpectJobs(*jobs, {
                        {"4f057009a5d481acec67b088", 0, 600, 1, "d2d3b77d342e"},       // waited 300 s
                        {"0718293a4b5c6d7e8f90a1b2", 150, 60, 2, "58540f191766"},      // waited 50 s
                        {"a1b2c3d4e5f60718293a4b5c", 800, 7200, 16, "58540f191766"},   // submit after launch
                        {"6d2c8a0e1f3b4c5d6e7f8091", 1290, 3600, 4, "default"},        // no user
                        {"f60718293a4b5c6d7e8f90a1", 3300, 300, 2, "default"},         // start_time 0
                        {"18293a4b5c6d7e8f90a1b2c3", 4300, 42, 1, "default"},          // not in the table
                        {"3a4b5c6d7e8f90a1b2c3d4e5", 6100, 86400, 4, "a0b1c2d3e4f5"},  // two rows
                        {"4b5c6d7e8f90a1b2c3d4e5f6", 7200, 100, 1, "d2d3b77d342e"},
                    });
  EXPECT_EQ((*jobs)[0].recorded_wait, Duration::Seconds(300));
  EXPECT_EQ((*jobs)[1].recorded_wait, Duration::Seconds(50));
  EXPECT_EQ((*jobs)[2].recorded_wait, Duration::Zero());
  EXPECT_EQ((*jobs)[6].recorded_wait, Duration::Seconds(200));
}

TEST(PaiTraceTest, JobTableWithHeaderAndErrors) {
  const std::string task = "j1,worker,1.0,Terminated,10.0,70.0,600.0,8.0,100.0,T4\n";
  {
    const std::string text = "job_name,inst_id,user,status,start_time,end_time\nj1,i1,alice,Terminated,4.0,70.0\n";
    const TraceText table{text, "jobs.csv"};
    const auto jobs = ParseTrace(task, "p.csv", Spec(TraceFormat::kAlibabaPai), nullptr, &table);
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    ExpectJobs(*jobs, {{"j1", 0, 60, 1, "alice"}});
    EXPECT_EQ((*jobs)[0].recorded_wait, Duration::Seconds(6));
  }
  const struct {
    std::string text;
    const char* error;
  } cases[] = {
      {"j1,i1,alice,Terminated,4.0\n", "jobs.csv:1: row: expected 6 fields"},
      {"j1,i1,alice,Terminated,4.0,70.0\nj2,i2,bob,Terminated,later,70.0\n", "jobs.csv:2: start_time: expected"},
      {",i1,alice,Terminated,4.0,70.0\n", "jobs.csv:1: job_name: empty"},
  };
  for (const auto& c : cases) {
    const TraceText table{c.text, "jobs.csv"};
    const auto jobs = ParseTrace(task, "p.csv", Spec(TraceFormat::kAlibabaPai), nullptr, &table);
    ASSERT_FALSE(jobs.ok()) << c.text;
    EXPECT_THAT(std::string(jobs.status().message()), StartsWith(c.error)) << c.text;
  }
  // Only PAI has a job table.
  const TraceText table{"j1,i1,alice,Terminated,4.0,70.0\n", "jobs.csv"};
  const auto other = ParseTrace("", "h.csv", Spec(TraceFormat::kHelios), nullptr, &table);
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("only an alibaba_pai trace has a job table"));
}

TEST(PaiTraceTest, EmptyInputGivesNoJobs) {
  for (const char* text : {"", "\n", "\r\n\r\n"}) {
    const auto jobs = ParseTrace(text, "p.csv", Spec(TraceFormat::kAlibabaPai));
    ASSERT_TRUE(jobs.ok());
    EXPECT_TRUE(jobs->empty());
  }
}

// ---------------------------------------------------------------- Helios

TEST(HeliosTraceTest, ParsesFixture) {
  TraceStats stats;
  const auto jobs = ParseTrace(ReadFixture("helios_small.csv"), "helios_small.csv", Spec(TraceFormat::kHelios), &stats);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.rows, 14);
  EXPECT_EQ(stats.jobs, 10);
  EXPECT_EQ(stats.skipped, 4);  // CPU job, cancelled twice before running, still running
  ExpectJobs(*jobs, {
                        {"1425510", 0, 3600, 8, "vcJkd"},  // Unix-second times
                        {"1425523", 0, 1, 1, "uEmpty"},    // tie keeps file order; empty vc: user
                        {"1425511", 61, 36848, 1, "vcJkd"},
                        {"1425512", 87, 249, 4, "vchbv"},
                        {"1425513", 88, 675233, 1, "vcpDC"},  // the README's three example rows
                        {"1425522", 300, 600, 1, "vcQ,1"},
                        {"1425517", 19200, 7200, 16, "vcJkd"},
                        {"1425519", 105600, 86400, 2, "vchbv"},
                        {"1425520", 235200, 1800, 8, "vchbv"},
                        {"1425521", 1833590, 20, 2, "vcpDC"},  // across a month end
                    });
}

TEST(HeliosTraceTest, FindsColumnsByName) {
  const std::string text =
      "end_time,start_time,submit_time,gpu_num,job_id,extra\n"
      "2020-06-09 10:00:00,2020-06-09 09:00:00,2020-06-09 08:00:00,4.0,7,x\n";
  const auto jobs = ParseTrace(text, "h.csv", Spec(TraceFormat::kHelios));
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ExpectJobs(*jobs, {{"7", 0, 3600, 4, "default"}});
}

TEST(HeliosTraceTest, MalformedRowsAreErrorsWithLines) {
  const std::string header =
      "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,"
      "queue\n";
  const std::string ok = "1,u,vc,1,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-09 18:41:01,2020-06-09 18:42:01,60,0\n";
  const struct {
    std::string text;
    const char* error;
  } cases[] = {
      {"job_id,user,vc,cpu_num\n1,u,vc,1\n", "h.csv:1: header: missing column \"gpu_num\""},
      {ok, "h.csv:1: header: missing column"},  // no header row at all
      {header + ok + "2,u,vc,x,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-09 18:41:01,,0,0\n",
       "h.csv:3: gpu_num: expected a GPU count"},
      {header + "3,u,vc,1,1,1,COMPLETED,2020-02-30 00:00:00,2020-06-09 18:41:01,,0,0\n",
       "h.csv:2: submit_time: expected \"YYYY-MM-DD HH:MM:SS\" (ISO 8601, a zone such as +08:00 allowed) or "
       "seconds"},
      {header + "4,u,vc,1,1,1,COMPLETED\n", "h.csv:2: row: expected 12 fields"},
      {header + ok + ",u,vc,1,1,1,COMPLETED,,,,0,0\n", "h.csv:3: job_id: empty"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ErrorOf(c.text, TraceFormat::kHelios, "h.csv"), StartsWith(c.error)) << c.text;
  }
}

TEST(HeliosTraceTest, EmptyInputGivesNoJobs) {
  for (const char* text : {"", "\n", "job_id,gpu_num,submit_time,start_time,end_time\n"}) {
    const auto jobs = ParseTrace(text, "h.csv", Spec(TraceFormat::kHelios));
    ASSERT_TRUE(jobs.ok()) << text;
    EXPECT_TRUE(jobs->empty());
  }
}

// ---------------------------------------------------------------- Acme

// Helios's schema with zoned times: instants, so jobs from a +08:00 and a
// UTC file line up; FAILED and NODE_FAIL jobs ran and are kept.
TEST(AcmeTraceTest, ParsesFixtureWithZonedTimes) {
  TraceStats stats;
  const auto jobs = ParseTrace(ReadFixture("acme_small.csv"), "acme_small.csv", Spec(TraceFormat::kAcme), &stats);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.rows, 5);
  EXPECT_EQ(stats.skipped, 2);  // a CPU job, one cancelled in the queue
  ExpectJobs(*jobs, {
                        {"7000001", 0, 7200, 8, "u0001"},
                        {"7000002", 600, 100, 16, "u0002"},
                        {"7000005", 2400, 21600, 32, "u0003"},  // 16:50 UTC is 00:50 +08:00
                    });
  // The queueing each recorded (start less submit), for a replay.
  EXPECT_EQ((*jobs)[0].recorded_wait, Duration::Seconds(30));
  EXPECT_EQ((*jobs)[1].recorded_wait, Duration::Seconds(300));
  EXPECT_EQ((*jobs)[2].recorded_wait, Duration::Seconds(600));
}

// ---------------------------------------------------------------- openb

TEST(OpenbTraceTest, ParsesFixtureAndCountsGpuShares) {
  TraceStats stats;
  const auto jobs = ParseTrace(ReadFixture("openb_small.csv"), "openb_small.csv", Spec(TraceFormat::kOpenb), &stats);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.rows, 7);
  EXPECT_EQ(stats.skipped, 3);  // a CPU pod, one never scheduled, one with no run
  EXPECT_EQ(stats.shared, 2);   // 250 and 810 thousandths of a GPU
  ExpectJobs(*jobs, {
                        {"pod-a", 0, 7200, 8, "default"},
                        {"pod-b", 60, 1190, 1, "default"},  // from scheduled to deleted
                        {"pod-c", 100, 3540, 1, "default"},
                        {"pod-f", 400, 115, 1, "default"},
                    });
  // Shares of one GPU as the pods asked for them.
  EXPECT_EQ((*jobs)[0].share_milli, 0);
  EXPECT_EQ((*jobs)[1].share_milli, 250);
  EXPECT_EQ((*jobs)[2].share_milli, 0);
  EXPECT_EQ((*jobs)[3].share_milli, 810);
}

TEST(OpenbTraceTest, MalformedRowsAreErrorsWithLines) {
  const std::string header =
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,"
      "scheduled_time\n";
  const struct {
    std::string text;
    const char* error;
  } cases[] = {
      {"name,num_gpu,creation_time\np,1,0\n", "o.csv:1: header: missing column \"scheduled_time\""},
      {header + "p,1,1,1,1200,,LS,Running,0,10,0\n", "o.csv:2: gpu_milli: expected thousandths of a GPU"},
      {header + "p,1,1,x,1000,,LS,Running,0,10,0\n", "o.csv:2: num_gpu: expected a GPU count"},
      {header + "p,1,1,1,1000,,LS,Running,soon,10,0\n", "o.csv:2: creation_time: expected"},
      {header + ",1,1,1,1000,,LS,Running,0,10,0\n", "o.csv:2: name: empty"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ErrorOf(c.text, TraceFormat::kOpenb, "o.csv"), StartsWith(c.error)) << c.text;
  }
}

// ---------------------------------------------------------------- job list

TEST(JobListTraceTest, ParsesFixture) {
  TraceStats stats;
  const auto jobs =
      ParseTrace(ReadFixture("job_list_small.csv"), "job_list_small.csv", Spec(TraceFormat::kJobList), &stats);
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(stats.rows, 5);
  EXPECT_EQ(stats.skipped, 2);  // no GPU, no run
  ExpectJobs(*jobs, {
                        {"a", 0, 3600, 8, "alice"},
                        {"tokyo", 0, 600, 2, "carol"},  // 09:00 +09:00 is midnight UTC
                        {"job-3", 300, 90, 1, "bob"},   // unnamed: its line
                    });
}

TEST(JobListTraceTest, MalformedRowsAreErrorsWithLines) {
  const struct {
    std::string text;
    const char* error;
  } cases[] = {
      {"submit_time,num_gpu\n0,1\n", "l.csv:1: header: missing column \"duration\""},
      {"submit_time,duration,gpus\n0,1,1\n", "l.csv:1: header: missing column \"num_gpu\""},
      {"submit_time,duration,num_gpu\n0,1h,1\n", "l.csv:2: duration: expected seconds"},
      {"submit_time,duration,num_gpu\n0,-5,1\n", "l.csv:2: duration: expected seconds"},
      {"submit_time,duration,num_gpu\n,5,1\n", "l.csv:2: submission_time: missing"},
      {"submit_time,duration,num_gpu\n0,5\n", "l.csv:2: row: expected 3 fields"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ErrorOf(c.text, TraceFormat::kJobList, "l.csv"), StartsWith(c.error)) << c.text;
  }
}

// ---------------------------------------------------------------- spec knobs

TEST(TraceSpecTest, TimeScaleStretchesSubmitsOnly) {
  TraceSpec spec = Spec(TraceFormat::kHelios);
  spec.time_scale = 0.5;
  const auto jobs = ParseTrace(ReadFixture("helios_small.csv"), "h.csv", spec);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 10u);
  EXPECT_EQ((*jobs)[2].submit, Time::Epoch() + Duration::Millis(30500));  // 61 s / 2
  EXPECT_EQ((*jobs)[2].duration, Duration::Seconds(36848));
  EXPECT_EQ((*jobs)[9].submit, Time::Epoch() + Duration::Seconds(1833590 / 2));
  spec.time_scale = 3;
  const auto slow = ParseTrace(ReadFixture("helios_small.csv"), "h.csv", spec);
  ASSERT_TRUE(slow.ok());
  EXPECT_EQ((*slow)[9].submit, Time::Epoch() + Duration::Seconds(1833590 * 3));
}

TEST(TraceSpecTest, LimitKeepsEarliestSubmits) {
  TraceSpec spec = Spec(TraceFormat::kAlibabaPai);
  spec.limit = 3;
  TraceStats stats;
  const auto jobs = ParseTrace(ReadFixture("pai_task_small.csv"), "p.csv", spec, &stats);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].name, "0718293a4b5c6d7e8f90a1b2");
  EXPECT_EQ((*jobs)[2].name, "a1b2c3d4e5f60718293a4b5c");
  EXPECT_EQ(stats.jobs, 3);
  EXPECT_EQ(stats.rows, 17);
  spec.limit = 100;
  EXPECT_EQ(ParseTrace(ReadFixture("pai_task_small.csv"), "p.csv", spec)->size(), 8u);
}

TEST(TraceSpecTest, CopiesAcceleratorsToEveryJob) {
  TraceSpec spec = Spec(TraceFormat::kPhilly);
  spec.accelerators = {AcceleratorType::kA100, AcceleratorType::kH100};
  const auto jobs = ParseTrace(ReadFixture("philly_small.json"), "p.json", spec);
  ASSERT_TRUE(jobs.ok());
  for (const JobSpec& job : *jobs) EXPECT_EQ(job.accelerators, spec.accelerators);
}

TEST(TraceSpecTest, RejectsBadKnobs) {
  for (double scale : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    TraceSpec spec = Spec(TraceFormat::kHelios);
    spec.time_scale = scale;
    const auto jobs = ParseTrace("", "h.csv", spec);
    ASSERT_FALSE(jobs.ok()) << scale;
    EXPECT_THAT(std::string(jobs.status().message()), StartsWith("h.csv: time_scale:"));
  }
  TraceSpec spec = Spec(TraceFormat::kHelios);
  spec.limit = -1;
  EXPECT_FALSE(ParseTrace("", "h.csv", spec).ok());
}

// ---------------------------------------------------------------- robustness

constexpr TraceFormat kFormats[] = {TraceFormat::kPhilly, TraceFormat::kAlibabaPai, TraceFormat::kHelios,
                                    TraceFormat::kAcme,   TraceFormat::kOpenb,      TraceFormat::kJobList};

// Parses and discards: the point is that nothing crashes or hangs, and an
// error is always InvalidArgument.
void ParseAnything(std::string_view text, TraceFormat format) {
  const auto jobs = ParseTrace(text, "g", Spec(format));
  if (!jobs.ok()) {
    ASSERT_EQ(jobs.status().code(), absl::StatusCode::kInvalidArgument) << jobs.status();
    return;
  }
  for (const JobSpec& job : *jobs) {
    EXPECT_GT(job.accelerator_count, 0);
    EXPECT_GT(job.duration, Duration::Zero());
    EXPECT_GE(job.submit, Time::Epoch());
  }
}

TEST(TraceRobustnessTest, RandomBytesNeverCrash) {
  Rng rng(42);
  for (int i = 0; i < 300; ++i) {
    std::string text(rng.Below(200), '\0');
    for (char& c : text) c = static_cast<char>(rng.Below(256));
    for (TraceFormat f : kFormats) ParseAnything(text, f);
  }
}

TEST(TraceRobustnessTest, TruncatedFixturesNeverCrash) {
  const std::pair<const char*, TraceFormat> fixtures[] = {
      {"philly_small.json", TraceFormat::kPhilly}, {"pai_task_small.csv", TraceFormat::kAlibabaPai},
      {"helios_small.csv", TraceFormat::kHelios},  {"acme_small.csv", TraceFormat::kAcme},
      {"openb_small.csv", TraceFormat::kOpenb},    {"job_list_small.csv", TraceFormat::kJobList}};
  for (const auto& [name, format] : fixtures) {
    const std::string text = ReadFixture(name);
    ASSERT_FALSE(text.empty()) << name;
    for (size_t n = 0; n <= text.size(); n += 7) ParseAnything(text.substr(0, n), format);
  }
}

TEST(TraceRobustnessTest, MutatedFixturesNeverCrash) {
  const std::string alphabet = "\",\n\r{}[]:0123456789-. aN\\";
  const std::pair<const char*, TraceFormat> fixtures[] = {
      {"philly_small.json", TraceFormat::kPhilly}, {"pai_task_small.csv", TraceFormat::kAlibabaPai},
      {"helios_small.csv", TraceFormat::kHelios},  {"acme_small.csv", TraceFormat::kAcme},
      {"openb_small.csv", TraceFormat::kOpenb},    {"job_list_small.csv", TraceFormat::kJobList}};
  Rng rng(7);
  for (const auto& [name, format] : fixtures) {
    const std::string original = ReadFixture(name);
    for (int i = 0; i < 400; ++i) {
      std::string text = original;
      for (int k = 0; k < 3; ++k) text[rng.Below(text.size())] = alphabet[rng.Below(alphabet.size())];
      ParseAnything(text, format);
    }
  }
}

}  // namespace
}  // namespace stargate
