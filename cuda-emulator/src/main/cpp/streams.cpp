// Streams and the device thread. Work queued on a stream does not run when it is queued: the device thread
// runs it later, in order, when something waits for it (a synchronize, a blocking copy, an event, a full
// queue). That is the furthest a GPU can lag behind the host, so a host buffer reused before its async copy
// ran, or a missing synchronize, gives wrong results here every time rather than now and then.
#include <string.h>

#include <chrono>

#include "driver.h"

namespace bkemu {

// NOTE: never destroyed: the device thread may still wait on its condition variables when the process exits.
Driver& g_driver = *new Driver;

namespace {

constexpr size_t kMaxQueued = 4096;  // a host that never synchronizes still sees its work run

double now_millis() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// Runs one op on the device thread (lock not held). False with a fault when a kernel or cuBLAS call failed.
bool run(Op& op, Fault* fault) {
    switch (op.kind) {
        case Op::KERNEL: {
            if (run_fault_rules_for_launch(op.launch.kernel->name, fault)) return false;
            const bool ok = execute(op.launch, g_driver.seed, fault);
            std::lock_guard<std::mutex> lock(g_driver.mu);
            g_driver.stats[0]++;
            g_driver.stats[1] += static_cast<uint64_t>(op.launch.grid.x) * op.launch.grid.y * op.launch.grid.z;
            g_driver.stats[2] += static_cast<uint64_t>(op.launch.grid.x) * op.launch.grid.y * op.launch.grid.z *
                                 op.launch.block.x * op.launch.block.y * op.launch.block.z;
            return ok;
        }
        case Op::HTOD:
            // NOTE: checked again here: the allocation may have been freed since the copy was queued.
            if (!memory_valid(op.dst, op.bytes)) break;
            memcpy(reinterpret_cast<void*>(op.dst), op.staged.empty() ? reinterpret_cast<void*>(op.src) : op.staged.data(),
                   op.bytes);
            return true;
        case Op::DTOH:
            if (!memory_valid(op.src, op.bytes)) break;
            memcpy(reinterpret_cast<void*>(op.dst), reinterpret_cast<void*>(op.src), op.bytes);
            return true;
        case Op::DTOD:
            if (!memory_valid(op.src, op.bytes) || !memory_valid(op.dst, op.bytes)) break;
            memmove(reinterpret_cast<void*>(op.dst), reinterpret_cast<void*>(op.src), op.bytes);
            return true;
        case Op::MEMSET8:
            if (!memory_valid(op.dst, op.bytes)) break;
            memset(reinterpret_cast<void*>(op.dst), static_cast<int>(op.value & 0xff), op.bytes);
            return true;
        case Op::MEMSET32: {
            if (!memory_valid(op.dst, op.bytes * 4)) break;
            uint32_t* p = reinterpret_cast<uint32_t*>(op.dst);
            for (size_t i = 0; i < op.bytes; i++) p[i] = op.value;
            return true;
        }
        case Op::EVENT_RECORD: {
            std::lock_guard<std::mutex> lock(g_driver.mu);
            if (op.event->alive && op.event->stream != nullptr && op.event->seq == op.seq) {
                op.event->done = true;
                op.event->millis = now_millis();
            }
            return true;
        }
        case Op::HOST:
            return op.host(fault);
    }
    fault->code = ERROR_ILLEGAL_ADDRESS;
    fault->text = op.what + ": the device memory it was queued on was freed before it ran";
    return false;
}

bool deps_met(const Op& op) {
    for (const auto& d : op.deps) {
        if (d.first->alive && d.first->done < d.second) return false;
    }
    return true;
}

// A stream whose next op is demanded and runnable; raises demand on the streams it depends on.
Stream* pick() {
    for (Context* c : g_driver.primary) {
        if (c == nullptr || !c->alive) continue;
        for (Stream* s : c->streams) {
            if (s->queue.empty() || s->demand <= s->done) continue;
            const Op& head = *s->queue.front();
            if (deps_met(head)) return s;
            for (const auto& d : head.deps) {
                if (d.first->demand < d.second) d.first->demand = d.second;
            }
        }
    }
    return nullptr;
}

void drop_queued(Context* ctx) {
    for (Stream* s : ctx->streams) {
        s->queue.clear();
        s->done = s->queued;
    }
}

void device_loop() {
    std::unique_lock<std::mutex> lock(g_driver.mu);
    for (;;) {
        Stream* s = pick();
        if (s == nullptr) {
            // NOTE: pick() may have raised demand on a dependency; look again before sleeping.
            s = pick();
            if (s == nullptr) {
                g_driver.device_wake.wait(lock);
                continue;
            }
        }
        std::shared_ptr<Op> op = s->queue.front();
        s->queue.pop_front();
        Context* ctx = s->ctx;
        if (op->kind == Op::KERNEL) op->launch.launch_index = ++g_driver.launches;
        Fault fault;
        bool ok = true;
        if (ctx->sticky == 0) {
            lock.unlock();
            ok = run(*op, &fault);
            lock.lock();
        }
        if (!ok) {
            ctx->sticky = fault.code;
            ctx->report = fault.text;
            g_driver.last_report = fault.text;
            drop_queued(ctx);
        } else {
            s->done = op->seq;
        }
        g_driver.host_wake.notify_all();
    }
}

}  // namespace

Context*& current_context() {
    thread_local Context* current = nullptr;
    return current;
}

void start_device_thread() {
    std::thread(device_loop).detach();
}

Stream* resolve_stream(Context* ctx, void* handle) {
    const uintptr_t h = reinterpret_cast<uintptr_t>(handle);
    if (h == 0 || h == 1 || h == 2) return ctx->legacy;  // NULL, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD
    Stream* s = static_cast<Stream*>(handle);
    auto it = g_driver.live.find(handle);
    if (it == g_driver.live.end() || it->second != H_STREAM || !s->alive || s->ctx != ctx) return nullptr;
    return s;
}

int submit(Stream* s, Op op, std::unique_lock<std::mutex>& lock) {
    if (s->capturing) {
        if (s->invalidated) return ERROR_STREAM_CAPTURE_INVALIDATED;
        if (op.kind == Op::EVENT_RECORD) {
            op.event->stream = s;
            op.event->captured = true;
            op.event->recorded = true;
            op.event->done = false;
            return SUCCESS;
        }
        s->graph->nodes.push_back(std::move(op));
        return SUCCESS;
    }
    Context* ctx = s->ctx;
    if (s->legacy) {
        for (Stream* o : ctx->streams) {
            if (o->blocking && !o->legacy) {
                if (o->capturing) return ERROR_STREAM_CAPTURE_IMPLICIT;
                op.deps.emplace_back(o, o->queued);
            }
        }
    } else if (s->blocking) {
        op.deps.emplace_back(ctx->legacy, ctx->legacy->queued);
    }
    op.seq = ++s->queued;
    if (op.kind == Op::EVENT_RECORD) {
        op.event->stream = s;
        op.event->seq = op.seq;
        op.event->recorded = true;
        op.event->captured = false;
        op.event->done = false;
    }
    s->queue.push_back(std::make_shared<Op>(std::move(op)));
    if (s->queue.size() > kMaxQueued) {
        s->demand = std::max(s->demand, s->queued - kMaxQueued / 2);
        g_driver.device_wake.notify_one();
    }
    (void)lock;
    return SUCCESS;
}

int wait_stream(Stream* s, uint64_t seq, std::unique_lock<std::mutex>& lock) {
    Context* ctx = s->ctx;
    if (ctx->sticky != 0) return ctx->sticky;
    if (s->done >= seq) return SUCCESS;
    if (s->demand < seq) s->demand = seq;
    g_driver.device_wake.notify_one();
    g_driver.host_wake.wait(lock, [&] { return s->done >= seq || ctx->sticky != 0; });
    return ctx->sticky;
}

int wait_context(Context* ctx, std::unique_lock<std::mutex>& lock) {
    std::vector<Stream*> all(ctx->streams.begin(), ctx->streams.end());
    for (Stream* s : all) {
        const int r = wait_stream(s, s->queued, lock);
        if (r != SUCCESS) return r;
    }
    return SUCCESS;
}

int check_capture_unsafe() {
    const std::thread::id me = std::this_thread::get_id();
    int result = SUCCESS;
    for (Context* c : g_driver.primary) {
        if (c == nullptr || !c->alive) continue;
        for (Stream* s : c->streams) {
            if (!s->capturing) continue;
            const bool mine = s->capture_thread == me && s->mode != CAPTURE_RELAXED;
            const bool global_elsewhere = s->capture_thread != me && s->mode == CAPTURE_GLOBAL;
            if (mine || global_elsewhere) {
                s->invalidated = true;
                result = ERROR_STREAM_CAPTURE_UNSUPPORTED;
            }
        }
    }
    return result;
}

}  // namespace bkemu
