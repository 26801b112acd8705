package org.ievirsh.controller;

import java.time.Clock;
import java.time.Instant;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.ievirsh.address.AddressBook;
import org.ievirsh.blade.Blade;
import org.ievirsh.engine.Key;
import org.ievirsh.libvirt.BladeLink;
import org.ievirsh.libvirt.LifecycleEvent;
import org.ievirsh.metrics.Metrics;

/**
 * BladeEvents hears one blade's link. It runs on libvirt's event thread, so
 * it only notes what happened and queues keys: the blade's reconcile on a
 * connection or a lifecycle event, every user with VMs there when the blade
 * goes, and the first discovery once every blade has answered or failed.
 */
final class BladeEvents implements BladeLink.Listener {
    private final Blade blade;
    private final Consumer<Key> queue;
    private final Clock clock;
    private final Metrics metrics;
    private final AddressBook addresses;
    private final Supplier<Instant> startedAt;
    private final Runnable answered;

    /** {@code answered}: told when the blade failed to connect (the first discovery may wait for no more). */
    BladeEvents(Blade blade, Consumer<Key> queue, Clock clock, Metrics metrics, AddressBook addresses,
                Supplier<Instant> startedAt, Runnable answered) {
        this.blade = blade;
        this.queue = queue;
        this.clock = clock;
        this.metrics = metrics;
        this.addresses = addresses;
        this.startedAt = startedAt;
        this.answered = answered;
    }

    @Override
    public void onConnected(String name) {
        blade.connected();
        queue.accept(new Key.Blade(name));
    }

    @Override
    public void onDisconnected(String name, String reason) {
        blade.disconnected(clock.instant());
        metrics.bladeConnectionError(name);
        blade.view().users().forEach(u -> queue.accept(new Key.User(u)));
    }

    @Override
    public void onEvent(LifecycleEvent event) {
        if (event.kind() == LifecycleEvent.Kind.AGENT_CONNECTED) {
            addresses.agentConnected(event.uuid());
            return;
        }
        if (blade.view().queueEvent(event)) {
            queue.accept(new Key.Blade(event.blade()));
        }
    }

    @Override
    public void onConnectFailed(String name, String reason) {
        blade.unansweredSince(startedAt.get());
        answered.run();
    }
}
