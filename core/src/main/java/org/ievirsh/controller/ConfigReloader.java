package org.ievirsh.controller;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Logger;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.posix.Inotify;
import org.ievirsh.posix.PosixException;

/**
 * ConfigReloader keeps the controller's config live (the README's "The blades as one pool"): the
 * file is read again when it changes (inotify on its directory: editors and
 * config management replace it by rename) and on {@code SIGHUP}. A new
 * config must pass what the start would check; one that does not is
 * refused with a log line and {@code ievirsh_config_reload_failures_total},
 * and the old one stays in force. What cannot change without a restart is
 * said in the log.
 */
final class ConfigReloader implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ConfigReloader.class.getName());
    private static final long DEBOUNCE_MILLIS = 200;

    private final Path file;
    private final Controller controller;
    private final Counter failures;
    private final ScheduledExecutorService thread;
    private final Debounced soon;
    private Inotify inotify;

    ConfigReloader(Path file, Controller controller, MeterRegistry registry) {
        this.file = file.toAbsolutePath();
        this.controller = controller;
        this.failures = Counter.builder("ievirsh.config.reload.failures")
                .description("New configs refused (the old one stays in force)").register(registry);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "config-reload");
            t.setDaemon(true);
            return t;
        });
        this.soon = new Debounced(thread, DEBOUNCE_MILLIS, this::reload);
    }

    void start() {
        try {
            inotify = new Inotify("config-watch", (dir, name) -> {
                if (name.isEmpty() || name.equals(file.getFileName().toString())) {
                    soon.ask("it changed");
                }
            });
            inotify.watch("config", file.getParent().toString());
        } catch (PosixException e) {
            LOG.warning("config: cannot watch " + file + " (" + e.getMessage() + "); SIGHUP reloads it");
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> soon.ask("SIGHUP"));
            if (EarlyHangup.takeSeen()) {
                soon.ask("SIGHUP while the controller started");
            }
        } catch (IllegalArgumentException e) {
            LOG.warning("config: SIGHUP cannot be caught here (" + e.getMessage() + ")");
        }
    }

    /** Reads, checks and applies the file now; returns true when the new config is in force. */
    boolean reload(String why) {
        try {
            Parsed<ControllerConfig> parsed = ConfigFiles.read(file);
            if (!parsed.isOk()) {
                refuse(parsed.problems().stream().map(Object::toString).toList());
                return false;
            }
            ConfigChecks.Checked checked = ConfigChecks.check(file.toString(), parsed.orThrow());
            if (!checked.ok()) {
                refuse(checked.errors().stream().map(Object::toString).toList());
                return false;
            }
            checked.warnings().forEach(w -> LOG.warning("config: " + w));
            List<String> restart = controller.reconfigure(parsed.orThrow());
            LOG.info("config: " + file + " reloaded (" + why + ")" + (restart.isEmpty() ? ""
                    : "; these changes need a restart to apply: " + String.join(", ", restart)));
            return true;
        } catch (RuntimeException e) {
            refuse(List.of(e.toString()));
            return false;
        }
    }

    private void refuse(List<String> problems) {
        failures.increment();
        LOG.warning("config: the new " + file + " is refused, the old config stays in force: "
                + String.join("; ", problems));
    }

    @Override
    public void close() {
        thread.shutdownNow();
        if (inotify != null) {
            inotify.close();
        }
    }
}
