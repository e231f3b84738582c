// Runs a checked job on a libuv worker thread and settles a promise with its outcome. The job
// holds plain pointers into the call's arrays (Execute() touches no Napi object); `this` and every
// argument stay referenced until it completes. `done` runs on the main thread afterwards,
// success or not.
//
// Completion never throws. When the environment is being torn down (worker.terminate() while a
// job runs, or process exit) JavaScript can no longer run: Node still calls the completion, with
// napi_cancelled or with every napi call failing. node-addon-api's default OnWorkComplete turns
// such a failure into a C++ exception thrown from inside its own handler, which ends the whole
// process (std::terminate). So the completion here uses the C API directly, ignores what fails
// (the promise then simply never settles: nobody is left to see it), and only then frees the
// worker and its references.
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
        what_(what),
        job_(std::move(job)),
        done_(std::move(done)) {
    Napi::Object pins = Napi::Object::New(info.Env());
    pins.Set("this", info.This());
    for (size_t i = 0; i < info.Length(); ++i) pins.Set(static_cast<uint32_t>(i), info[i]);
    pins_ = Napi::Persistent(pins);
  }
  // The promise is made by the caller's call (its handle lives in that call's scope).
  Napi::Promise Promise() {
    napi_value promise = nullptr;
    const napi_status st = napi_create_promise(Env(), &deferred_, &promise);
    NAPI_THROW_IF_FAILED(Env(), st, Napi::Promise());
    return Napi::Promise(Env(), promise);
  }

  void Execute() override {
    // An exception escaping a worker thread would end the process: report it instead.
    try {
      const frnn::Status st = job_();
      if (!st.ok) error_ = st.message.empty() ? std::string(what_) + " failed" : st.message;
    } catch (const std::exception& e) {
      error_ = std::string(what_) + " failed: " + e.what();
    } catch (...) {
      error_ = std::string(what_) + " failed";
    }
  }

  // Replaces AsyncWorker's: see the file comment. OnOK/OnError are not used.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (status != napi_cancelled && deferred_ != nullptr) Settle(env);
    Destroy();  // deletes this; the references' destructors ignore failures
  }

 private:
  void Settle(napi_env env) noexcept {
    try {
      if (done_) done_();
    } catch (...) {
    }
    napi_handle_scope scope = nullptr;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value value = nullptr;
    if (error_.empty()) {
      if (napi_get_undefined(env, &value) == napi_ok) napi_resolve_deferred(env, deferred_, value);
    } else {
      napi_value msg = nullptr;
      if (napi_create_string_utf8(env, error_.data(), error_.size(), &msg) == napi_ok &&
          napi_create_range_error(env, nullptr, msg, &value) == napi_ok)
        napi_reject_deferred(env, deferred_, value);
    }
    // A failed call above may leave an exception pending (the env is closing): clear it.
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    napi_close_handle_scope(env, scope);
  }

  napi_deferred deferred_ = nullptr;
  const char* what_;
  std::function<frnn::Status()> job_;
  std::function<void()> done_;
  std::string error_;
  Napi::ObjectReference pins_;
};

// Queues `job` and returns the promise it settles.
inline Napi::Value queue_job(const Napi::CallbackInfo& info, const char* what, std::function<frnn::Status()> job,
                             std::function<void()> done = {}) {
  auto* worker = new JobWorker(info, what, std::move(job), std::move(done));
  try {
    Napi::Promise p = worker->Promise();
    worker->Queue();
    return p;
  } catch (...) {
    delete worker;
    throw;
  }
}

}  // namespace frnn_addon
