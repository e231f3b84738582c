// Runs a checked job on a libuv worker thread and settles a promise with its outcome. The job
// holds plain pointers into the call's arrays (Execute() touches no Napi object); `this` and every
// argument stay referenced until it completes. `done` runs on the main thread afterwards,
// success or not.
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <string>
#include <utility>

#include "fused_rnn.h"

namespace frnn_addon {

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(const Napi::CallbackInfo& info, const char* what, std::function<frnn::Status()> job,
            std::function<void()> done)
      : Napi::AsyncWorker(info.Env(), what),
        deferred_(Napi::Promise::Deferred::New(info.Env())),
        what_(what),
        job_(std::move(job)),
        done_(std::move(done)) {
    Napi::Object pins = Napi::Object::New(info.Env());
    pins.Set("this", info.This());
    for (size_t i = 0; i < info.Length(); ++i) pins.Set(static_cast<uint32_t>(i), info[i]);
    pins_ = Napi::Persistent(pins);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    // An exception escaping a worker thread would end the process: report it instead.
    try {
      const frnn::Status st = job_();
      if (!st.ok) SetError(st.message);
    } catch (const std::exception& e) {
      SetError(std::string(what_) + " failed: " + e.what());
    }
  }
  void OnOK() override {
    if (done_) done_();
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    if (done_) done_();
    deferred_.Reject(Napi::RangeError::New(Env(), e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  const char* what_;
  std::function<frnn::Status()> job_;
  std::function<void()> done_;
  Napi::ObjectReference pins_;
};

// Queues `job` and returns the promise it settles.
inline Napi::Value queue_job(const Napi::CallbackInfo& info, const char* what, std::function<frnn::Status()> job,
                             std::function<void()> done = {}) {
  auto* worker = new JobWorker(info, what, std::move(job), std::move(done));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

}  // namespace frnn_addon
