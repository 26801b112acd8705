package org.ievirsh.course;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * ConsoleWatch knows which students' consoles an instructor has open now,
 * so that the student reads it in the VM's status (condition
 * {@code ConsoleOpen}, naming who) while it lasts. The console broker tells
 * it; each change asks for the student's reconcile.
 */
public final class ConsoleWatch {
    private final Map<String, String> byVm = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();
    private volatile Consumer<String> wake = user -> { };

    /** Who to ask for a student's reconcile when their console is opened or closed by an instructor. */
    public void onChange(Consumer<String> wake) {
        this.wake = wake;
    }

    /** {@code who} (an instructor, as shown to the student) opened the console of {@code user}'s {@code vm}. */
    public void opened(String user, String vm, String who) {
        byVm.put(user + "/" + vm, who);
        changed(user);
    }

    /** That session ended. */
    public void closed(String user, String vm, String who) {
        if (byVm.remove(user + "/" + vm, who)) {
            changed(user);
        }
    }

    /** Who has the console of {@code user}'s {@code vm} open as an instructor now, if anyone. */
    public Optional<String> watcher(String user, String vm) {
        return byVm.isEmpty() ? Optional.empty() : Optional.ofNullable(byVm.get(user + "/" + vm));
    }

    /** A count that moves whenever an instructor opens or closes one of {@code user}'s consoles. */
    public long generation(String user) {
        AtomicLong g = generations.get(user);
        return g == null ? 0 : g.get();
    }

    private void changed(String user) {
        generations.computeIfAbsent(user, u -> new AtomicLong()).incrementAndGet();
        wake.accept(user);
    }
}
