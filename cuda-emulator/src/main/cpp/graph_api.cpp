// The CUDA driver API's stream capture and graphs: one captured stream replayed as a list of its ops.
#include "api.h"

using namespace bkemu;

extern "C" {

// ---- Graphs (stream capture of one stream). ----

CUresult cuStreamBeginCapture_v2(void* stream, int mode) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (mode < CAPTURE_GLOBAL || mode > CAPTURE_RELAXED) return ERROR_INVALID_VALUE;
    if (s->legacy) return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    if (s->capturing) return ERROR_ILLEGAL_STATE;
    s->capturing = true;
    s->invalidated = false;
    s->mode = mode;
    s->capture_thread = std::this_thread::get_id();
    s->graph = new Graph{ctx, {}};
    return SUCCESS;
}

CUresult cuStreamEndCapture(void* stream, void** graph) {
    REQUIRE_CONTEXT(lock, ctx);
    Stream* s = resolve_stream(ctx, stream);
    if (s == nullptr) return ERROR_INVALID_HANDLE;
    if (graph == nullptr) return ERROR_INVALID_VALUE;
    if (!s->capturing) return ERROR_ILLEGAL_STATE;
    if (s->mode != CAPTURE_RELAXED && s->capture_thread != std::this_thread::get_id()) {
        return ERROR_STREAM_CAPTURE_WRONG_THREAD;
    }
    s->capturing = false;
    Graph* g = s->graph;
    s->graph = nullptr;
    if (s->invalidated) {
        delete g;
        *graph = nullptr;
        return ERROR_STREAM_CAPTURE_INVALIDATED;
    }
    g_driver.live.emplace(g, H_GRAPH);
    *graph = g;
    return SUCCESS;
}

CUresult cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long flags) {
    REQUIRE_CONTEXT(lock, ctx);
    Graph* g = live<Graph>(graph, H_GRAPH);
    if (exec == nullptr || g == nullptr || flags != 0) return ERROR_INVALID_VALUE;
    GraphExec* e = new GraphExec{g->ctx, g->nodes};
    g_driver.live.emplace(e, H_GRAPH_EXEC);
    *exec = e;
    return SUCCESS;
}

CUresult cuGraphLaunch(void* exec, void* stream) {
    REQUIRE_CONTEXT(lock, ctx);
    GraphExec* e = live<GraphExec>(exec, H_GRAPH_EXEC);
    Stream* s = resolve_stream(ctx, stream);
    if (e == nullptr || s == nullptr || e->ctx != ctx) return ERROR_INVALID_HANDLE;
    for (const Op& node : e->nodes) {
        Op op = node;
        op.deps.clear();
        const int r = submit(s, std::move(op), lock);
        if (r != SUCCESS) return r;
    }
    if (!s->capturing) g_driver.stats[3]++;
    return SUCCESS;
}

CUresult cuGraphExecDestroy(void* exec) {
    REQUIRE_CONTEXT(lock, ctx);
    GraphExec* e = live<GraphExec>(exec, H_GRAPH_EXEC);
    if (e == nullptr) return ERROR_INVALID_HANDLE;
    g_driver.live.erase(e);
    delete e;
    return SUCCESS;
}

CUresult cuGraphDestroy(void* graph) {
    REQUIRE_CONTEXT(lock, ctx);
    Graph* g = live<Graph>(graph, H_GRAPH);
    if (g == nullptr) return ERROR_INVALID_HANDLE;
    g_driver.live.erase(g);
    delete g;
    return SUCCESS;
}

}  // extern "C"
