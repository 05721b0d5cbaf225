// The CUDA driver API's streams and events (see streams.cpp for how their work runs).
#include "api.h"

using namespace bkemu;

extern "C" {

// ---- Streams and events. ----

CUresult cuStreamCreate(void** ps, unsigned int flags) {
    REQUIRE_CONTEXT(lock, ctx);
    if (ps == nullptr || flags > 1) return ERROR_INVALID_VALUE;
    Stream* s = new Stream{};
    s->ctx = ctx;
    s->legacy = false;
    s->blocking = (flags & 1) == 0;
    ctx->streams.insert(s);
    g_driver.live.emplace(s, H_STREAM);
    *ps = s;
    return SUCCESS;
}

CUresult cuStreamDestroy_v2(void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = live<Stream>(stream, H_STREAM);
    if (s == nullptr || s->legacy || s->ctx != ctx) return ERROR_INVALID_HANDLE;
    if (s->capturing) return ERROR_ILLEGAL_STATE;
    const int r = wait_stream(s, s->queued, lock);
    s->alive = false;
    ctx->streams.erase(s);
    g_driver.live.erase(s);
    return r;
}

CUresult cuStreamSynchronize(void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (s->capturing) {
        s->invalidated = true;
        return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return wait_stream(s, s->queued, lock);
}

CUresult cuStreamQuery(void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (s->capturing) {
        s->invalidated = true;
        return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    if (s->done >= s->queued) return SUCCESS;
    // NOTE: asking is a reason to run: a host that polls sees the work finish.
    s->demand = s->queued;
    g_driver.device_wake.notify_one();
    return ERROR_NOT_READY;
}

CUresult cuStreamWaitEvent(void* stream, void* event, unsigned int flags) {
    REQUIRE_CONTEXT(lock, ctx);
    (void)flags;
    Stream* s = resolve_stream(ctx, stream);
    Event* e = live<Event>(event, H_EVENT);
    if (s == nullptr || e == nullptr) return ERROR_INVALID_HANDLE;
    if (!e->recorded) return SUCCESS;
    if (s->capturing) {
        if (e->captured && e->stream == s) return SUCCESS;
        s->invalidated = true;
        return ERROR_STREAM_CAPTURE_ISOLATION;  // NOTE: cross-stream capture (fork/join) is not emulated
    }
    if (e->captured) return ERROR_CAPTURED_EVENT;
    // A no-op kernel-less marker that depends on the event's position.
    Op op{};
    op.kind = Op::HOST;
    op.what = "cuStreamWaitEvent";
    op.host = [](Fault*) { return true; };
    op.deps.emplace_back(e->stream, e->seq);
    return submit(s, std::move(op), lock);
}

CUresult cuStreamIsCapturing(void* stream, int* status) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (status == nullptr) return ERROR_INVALID_VALUE;
    *status = !s->capturing ? 0 : s->invalidated ? 2 : 1;
    return SUCCESS;
}

CUresult cuEventCreate(void** pe, unsigned int flags) {
    REQUIRE_CONTEXT(lock, ctx);
    if (pe == nullptr || (flags & ~7u) != 0) return ERROR_INVALID_VALUE;
    Event* e = new Event{};
    e->ctx = ctx;
    e->flags = flags;
    g_driver.live.emplace(e, H_EVENT);
    *pe = e;
    return SUCCESS;
}

CUresult cuEventRecord(void* event, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    Stream* s = resolve_stream(ctx, stream);
    if (e == nullptr || s == nullptr || e->ctx != ctx) return ERROR_INVALID_HANDLE;
    Op op{};
    op.kind = Op::EVENT_RECORD;
    op.what = "cuEventRecord";
    op.event = e;
    return submit(s, std::move(op), lock);
}

CUresult cuEventQuery(void* event) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    if (e->captured) return ERROR_CAPTURED_EVENT;
    if (!e->recorded || e->done) return SUCCESS;
    if (e->stream->done >= e->seq) return SUCCESS;
    e->stream->demand = std::max(e->stream->demand, e->seq);
    g_driver.device_wake.notify_one();
    return ERROR_NOT_READY;
}

CUresult cuEventSynchronize(void* event) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    if (e->captured) return ERROR_CAPTURED_EVENT;
    if (!e->recorded) return SUCCESS;
    return wait_stream(e->stream, e->seq, lock);
}

// NOTE: only the original symbol: cuEventElapsedTime_v2 exists in drivers >= 12.8, and this emulates 12.4.
CUresult cuEventElapsedTime(float* ms, void* start, void* end) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* a = live<Event>(start, H_EVENT);
    Event* b = live<Event>(end, H_EVENT);
    if (ms == nullptr) return ERROR_INVALID_VALUE;
    if (a == nullptr || b == nullptr || (a->flags & 2) || (b->flags & 2)) return ERROR_INVALID_HANDLE;
    if (!a->recorded || !b->recorded) return ERROR_INVALID_HANDLE;
    if (a->captured || b->captured) return ERROR_CAPTURED_EVENT;
    if (!a->done || !b->done) return ERROR_NOT_READY;
    *ms = static_cast<float>(b->millis - a->millis);
    return SUCCESS;
}

CUresult cuEventDestroy_v2(void* event) {
    REQUIRE_CONTEXT(lock, ctx);
    Event* e = live<Event>(event, H_EVENT);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    e->alive = false;
    g_driver.live.erase(e);
    return SUCCESS;
}

}  // extern "C"
