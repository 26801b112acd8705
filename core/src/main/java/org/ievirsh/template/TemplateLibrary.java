package org.ievirsh.template;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;

/**
 * TemplateLibrary holds the admin's templates, {@code <dir>/<name>.xml}. It
 * re-reads only files that changed. A template that turns invalid keeps its
 * last good version in use (and is reported), so that one typo of an admin
 * does not stop every VM made from it.
 */
public final class TemplateLibrary {
    private static final Logger LOG = Logger.getLogger(TemplateLibrary.class.getName());
    private static final int MAX_BYTES = 256 * 1024;

    private volatile Path directory;
    private final Map<String, Loaded> loaded = new ConcurrentHashMap<>();
    private final Map<String, String> problems = new ConcurrentHashMap<>();
    private volatile long generation;

    private record Loaded(String version, Template template) {
    }

    public TemplateLibrary(Path directory) {
        this.directory = directory;
    }

    /** The templates come from {@code fresh} from now on (a live config); the next reload reads it. */
    public synchronized void directory(Path fresh) {
        if (!fresh.equals(directory)) {
            directory = fresh;
            loaded.clear();
            generation++;
        }
    }

    /** Re-reads the directory; returns the problems of templates that could not be read. */
    public synchronized Map<String, String> reload() {
        Set<String> seen = new TreeSet<>();
        try (SafeDir dir = SafeDir.openTrusted(directory)) {
            for (SafeDir.Entry entry : dir.list()) {
                if (!entry.name().endsWith(".xml")) {
                    continue;
                }
                String name = entry.name().substring(0, entry.name().length() - 4);
                if (!VirtualMachine.isValidName(name)) {
                    continue;
                }
                seen.add(name);
                Optional<SafeDir.Contents> contents = dir.read(entry.name(), MAX_BYTES);
                if (contents.isEmpty()) {
                    continue;
                }
                FileStat stat = contents.get().stat();
                Loaded previous = loaded.get(name);
                if (previous != null && previous.version().equals(stat.version())) {
                    continue;
                }
                if (contents.get().bytes() == null) {
                    problems.put(name, name + ".xml is not a regular file of at most " + MAX_BYTES + " bytes");
                    continue;
                }
                try {
                    loaded.put(name, new Loaded(stat.version(), Template.parse(name, contents.get().bytes())));
                    generation++;
                    problems.remove(name);
                } catch (Template.InvalidTemplateException e) {
                    if (!e.getMessage().equals(problems.put(name, e.getMessage()))) {
                        LOG.warning("template " + e.getMessage()
                                + (previous != null ? " (its last good version stays in use)" : ""));
                    }
                }
            }
        } catch (PosixException e) {
            problems.put("", "cannot read the templates directory " + directory + ": " + e.getMessage());
            return Map.copyOf(problems);
        }
        problems.remove("");
        if (loaded.keySet().retainAll(seen)) {
            generation++;
        }
        problems.keySet().retainAll(seen);
        return Map.copyOf(problems);
    }

    /** A number that changes whenever a template is added, changed or removed. */
    public long generation() {
        return generation;
    }

    public Optional<Template> get(String name) {
        Loaded entry = loaded.get(name);
        return entry == null ? Optional.empty() : Optional.of(entry.template());
    }

    /** Names of the usable templates, sorted. */
    public Set<String> names() {
        return new TreeSet<>(loaded.keySet());
    }
}
