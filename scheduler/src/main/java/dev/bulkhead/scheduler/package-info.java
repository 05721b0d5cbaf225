/**
 * Continuous batching over a paged KV cache: the request state machine, the per-step choice of which tokens to
 * compute under a token budget (running requests first, then chunked prefill of waiting ones in priority then
 * arrival order), preemption by recompute when KV blocks run out, and admission checks that reject requests
 * which could never fit. {@link dev.bulkhead.scheduler.Scheduler} emits one immutable
 * {@link dev.bulkhead.scheduler.SchedulerOutput} per step and never touches a tensor.
 */
package dev.bulkhead.scheduler;
