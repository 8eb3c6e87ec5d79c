// SPDX-License-Identifier: MIT
// Traffic-management metrics (daemon/metrics.h): the exact exposition lines for given stats,
// label escaping, and nothing at all when no pools are configured.
#include "daemon/metrics.h"

#include <gtest/gtest.h>

namespace holdfast::daemon {
namespace {

// The part of the exposition from the first traffic-management family on.
std::string lb_part(const lb::LbStats &lb) {
  std::string all = render_metrics({}, ServerStatus{}, lb);
  auto at = all.find("# HELP holdfast_member_up");
  return at == std::string::npos ? "" : all.substr(at);
}

lb::MemberStatus member(const std::string &id, lb::Live live, lb::Admin admin) {
  lb::MemberStatus m;
  m.id = id;
  m.live = live;
  m.admin = admin;
  return m;
}

TEST(MetricsLb, NothingWithoutPools) {
  EXPECT_EQ(lb_part({}), "");
  std::string all = render_metrics({}, ServerStatus{}, {});
  EXPECT_EQ(all.find("holdfast_member"), std::string::npos);
  EXPECT_EQ(all.find("holdfast_lb_"), std::string::npos);
  EXPECT_EQ(all.find("holdfast_health_check"), std::string::npos);
}

TEST(MetricsLb, RendersEveryFamilyWithExactLines) {
  lb::LbStats s;
  lb::PoolStatus web;
  web.id = "web";
  web.members = {member("a", lb::Live::kUp, lb::Admin::kAuto),
                 member("b", lb::Live::kOut, lb::Admin::kDown),
                 member("c", lb::Live::kDrain, lb::Admin::kDrain)};
  s.pools = {web};
  s.checks = {{"web", "192.0.2.1", "ok", 7}, {"web", "192.0.2.2", "status", 3}};
  lb::CheckDuration d;
  d.check = "web";
  for (size_t i = 0; i < std::size(lb::kDurationBounds); ++i) {
    d.buckets[i] = i < 2 ? 4 : 10; // 4 probes <= 5 ms, all 10 <= 10 ms
  }
  d.count = 10;
  d.sum = 0.0625;
  s.durations = {d};
  s.answers = {{"www.example.com.", "A", "a", 40}, {"www.example.com.", "A", "c", 2}};
  s.fallbacks = {{"www.example.com.", "A", "all", 5}};
  std::string want =
      "# HELP holdfast_member_up 1 when the member takes part in answers (effective state up or "
      "drain), else 0.\n"
      "# TYPE holdfast_member_up gauge\n"
      "holdfast_member_up{pool=\"web\",member=\"a\"} 1\n"
      "holdfast_member_up{pool=\"web\",member=\"b\"} 0\n"
      "holdfast_member_up{pool=\"web\",member=\"c\"} 1\n"
      "# HELP holdfast_member_admin_state Operator state of the member (auto, up = enabled, down "
      "= disabled, drain): 1 for the current state, 0 for the others.\n"
      "# TYPE holdfast_member_admin_state gauge\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"a\",state=\"auto\"} 1\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"a\",state=\"up\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"a\",state=\"down\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"a\",state=\"drain\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"b\",state=\"auto\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"b\",state=\"up\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"b\",state=\"down\"} 1\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"b\",state=\"drain\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"c\",state=\"auto\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"c\",state=\"up\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"c\",state=\"down\"} 0\n"
      "holdfast_member_admin_state{pool=\"web\",member=\"c\",state=\"drain\"} 1\n"
      "# HELP holdfast_health_checks_total Health probes by check, probed address and result (ok "
      "or the failure reason).\n"
      "# TYPE holdfast_health_checks_total counter\n"
      "holdfast_health_checks_total{check=\"web\",address=\"192.0.2.1\",result=\"ok\"} 7\n"
      "holdfast_health_checks_total{check=\"web\",address=\"192.0.2.2\",result=\"status\"} 3\n"
      "# HELP holdfast_health_check_duration_seconds Duration of health probes, by check.\n"
      "# TYPE holdfast_health_check_duration_seconds histogram\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.001\"} 4\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.005\"} 4\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.01\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.025\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.05\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.1\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.25\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"0.5\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"1\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"2.5\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"5\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"10\"} 10\n"
      "holdfast_health_check_duration_seconds_bucket{check=\"web\",le=\"+Inf\"} 10\n"
      "holdfast_health_check_duration_seconds_sum{check=\"web\"} 0.0625\n"
      "holdfast_health_check_duration_seconds_count{check=\"web\"} 10\n"
      "# HELP holdfast_lb_answers_total Traffic-managed answers by record (name, type) and member "
      "answered.\n"
      "# TYPE holdfast_lb_answers_total counter\n"
      "holdfast_lb_answers_total{name=\"www.example.com.\",type=\"A\",member=\"a\"} 40\n"
      "holdfast_lb_answers_total{name=\"www.example.com.\",type=\"A\",member=\"c\"} 2\n"
      "# HELP holdfast_lb_fallback_answers_total Traffic-managed answers given with no member of "
      "the pool up, by kind: fallback (a fallback pool), all (when-all-down: all), nodata, "
      "servfail.\n"
      "# TYPE holdfast_lb_fallback_answers_total counter\n"
      "holdfast_lb_fallback_answers_total{name=\"www.example.com.\",type=\"A\",kind=\"all\"} 5\n";
  EXPECT_EQ(lb_part(s), want);
}

TEST(MetricsLb, LabelValuesAreEscaped) {
  lb::LbStats s;
  lb::PoolStatus p;
  p.id = "we\"b";
  p.members = {member("a\\b\nc", lb::Live::kUp, lb::Admin::kAuto)};
  s.pools = {p};
  std::string text = lb_part(s);
  EXPECT_NE(text.find("holdfast_member_up{pool=\"we\\\"b\",member=\"a\\\\b\\nc\"} 1\n"),
            std::string::npos)
      << text;
}

} // namespace
} // namespace holdfast::daemon
