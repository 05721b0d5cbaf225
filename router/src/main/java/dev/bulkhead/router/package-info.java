/**
 * The thin router: a registry of models (each with its own engine loop, queue, memory budget, breaker and
 * health), an immutable versioned routing table with fallback chains, readiness and a watchdog, admission and
 * load shedding, and fault injection for drills.
 */
package dev.bulkhead.router;
