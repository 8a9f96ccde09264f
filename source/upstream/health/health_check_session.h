#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "source/common/event/dispatcher.h"
#include "source/upstream/health/health_check_options.h"
#include "source/upstream/health/health_checker.h"
#include "source/upstream/http_client.h"
#include "source/upstream/load_balancer/random.h"

namespace modgate::upstream {

// The probe loop and health state of one host: probe, wait, probe again.
// Only the thresholds decide its state; the owner decides what a change
// means for the cluster.
class HealthCheckSession : public ResponseCallbacks {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual const HealthCheckOptions& options() const = 0;
    virtual HttpClient& clientFor(const Host& host) = 0;
    virtual Random& random() = 0;
    virtual bool hasTraffic() = 0;
    // The last thing a session does after a probe, so the owner may destroy
    // it (and itself) from here. `changed`: the probe flipped the state.
    virtual void onProbeDone(HealthCheckSession& session, bool changed) = 0;
  };

  HealthCheckSession(event::Dispatcher& dispatcher, Owner& owner, HealthCheckEndpoint endpoint);
  ~HealthCheckSession() override;

  // Arms the first probe after the initial jitter.
  void start();
  // Cancels the probe in flight and the timers.
  void stop();
  // Takes effect from the next probe.
  void setEndpoint(HealthCheckEndpoint endpoint);

  const HostSharedPtr& host() const { return endpoint_.host; }
  const HostHealthStatus& status() const { return status_; }

  // ResponseCallbacks
  void onResponseHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) override;
  void onResponseData(buffer::Buffer& data, bool end_stream) override;
  void onFailure(FailureReason reason, std::string_view detail) override;

 private:
  void probe();
  void onTimeout();
  // Records the probe's result, arms the next probe and reports to the owner
  // (last, see Owner::onProbeDone).
  void finish(bool success, std::string failure);

  event::Dispatcher& dispatcher_;
  Owner& owner_;
  HealthCheckEndpoint endpoint_;
  HostHealthStatus status_;
  // Set while a probe is in flight; the client's object, valid until its
  // terminal callback or cancel().
  UpstreamRequest* request_ = nullptr;
  uint32_t response_status_ = 0;
  event::TimerPtr interval_timer_;
  event::TimerPtr timeout_timer_;
};

}  // namespace modgate::upstream
