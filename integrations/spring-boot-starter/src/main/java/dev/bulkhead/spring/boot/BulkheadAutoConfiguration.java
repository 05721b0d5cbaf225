package dev.bulkhead.spring.boot;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.cuda.Backends;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.router.ModelHealth;
import dev.bulkhead.router.Router;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Bulkhead in a Spring Boot application: an {@link LlmEngine} bean from {@code bulkhead.*}, or a {@link Router}
 * bean when {@code bulkhead.router-config} names a config file; its metrics in the application's
 * {@link MeterRegistry}; a health entry per model ({@code /actuator/health/bulkhead}); a drain of requests in flight
 * when the context stops. Every bean backs off when the application defines its own.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"})
@EnableConfigurationProperties(BulkheadProperties.class)
public class BulkheadAutoConfiguration {

    /** Created by Spring. */
    public BulkheadAutoConfiguration() {
    }

    /**
     * The router over the models of {@code bulkhead.router-config}, its and its engines' metrics in the
     * application's registry.
     *
     * @param props    the settings
     * @param registry the application's meter registry, if it has one
     * @return a started router; Spring closes it
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = "bulkhead", name = "router-config")
    public Router bulkheadRouter(BulkheadProperties props, ObjectProvider<MeterRegistry> registry) {
        return Router.builder().configFile(props.routerConfig())
                .meterRegistry(registry.getIfAvailable(SimpleMeterRegistry::new)).start();
    }

    /**
     * One engine of {@code bulkhead.model} (the embedded stories260K when unset), its metrics in the application's
     * registry. Not created when the application has its own engine or a router.
     *
     * @param props    the settings
     * @param registry the application's meter registry, if it has one
     * @return a started engine; Spring closes it
     */
    @Bean
    @ConditionalOnMissingBean({LlmEngine.class, Router.class})
    public LlmEngine bulkheadEngine(BulkheadProperties props, ObjectProvider<MeterRegistry> registry) {
        Backends.Choice backend = Backends.choose(props.device());
        LoadedModel model = ModelLoader.load(props.model());
        try {
            EngineOptions options = EngineOptions.defaults().withThreads(props.effectiveThreads())
                    .withKvCacheBytes(props.kvCacheSize().toBytes()).withMaxModelLen(props.maxModelLen())
                    .withMaxRunning(props.maxRunning());
            String name = props.name() != null && !props.name().isBlank() ? props.name()
                    : props.model() == null || props.model().isBlank() ? EmbeddedModel.NAME
                    : String.valueOf(model.origin().getFileName());
            return new LlmEngine(name, model, options, registry.getIfAvailable(SimpleMeterRegistry::new),
                    backend.factory());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Drains every engine and router of the context when it stops.
     *
     * @param engines the context's engines
     * @param routers the context's routers
     * @param props   the settings ({@code drain-timeout})
     * @return the lifecycle bean
     */
    @Bean
    @ConditionalOnMissingBean(name = "bulkheadLifecycle")
    public SmartLifecycle bulkheadLifecycle(ObjectProvider<LlmEngine> engines, ObjectProvider<Router> routers,
                                            BulkheadProperties props) {
        return new BulkheadLifecycle(engines.orderedStream().toList(), routers.orderedStream().toList(),
                props.drainTimeout());
    }

    /** The health contributor, when Boot's health support is on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class Health {

        /**
         * Per-model health of every router and engine of the context (the starter's, or the application's own).
         *
         * @param engines the engines
         * @param routers the routers
         * @return the {@code bulkhead} health entry
         */
        @Bean
        @ConditionalOnMissingBean(name = "bulkheadHealthContributor")
        BulkheadHealthContributor bulkheadHealthContributor(ObjectProvider<LlmEngine> engines,
                                                            ObjectProvider<Router> routers) {
            return new BulkheadHealthContributor(() -> {
                Map<String, ModelReadiness.State> out = new LinkedHashMap<>();
                routers.orderedStream().forEach(r -> out.putAll(routerStates(r)));
                engines.orderedStream().forEach(e -> out.put(e.name(), engineState(e)));
                return out;
            });
        }
    }

    static Map<String, ModelReadiness.State> routerStates(Router router) {
        Map<String, ModelReadiness.State> out = new LinkedHashMap<>();
        for (ModelHealth h : router.health().models().values()) {
            out.put(h.model(), new ModelReadiness.State(h.ready(), h.status().name(), h.reason(), h.inFlight(),
                    h.kvBlocksInUse()));
        }
        return out;
    }

    static ModelReadiness.State engineState(LlmEngine e) {
        boolean running = e.isRunning();
        String reason = running ? "" : e.failure().orElse("engine stopped");
        return new ModelReadiness.State(running, running ? "READY" : "DEAD", reason, e.inFlight(),
                e.stats().kv().numInUse());
    }
}
