package org.ievirsh.blade;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.libvirt.BladeLink;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.NodeResources;

/**
 * Blade is one hypervisor as the controller holds it: its config, its link,
 * what is known of its domains, and a bound on calls made to it at once
 * (libvirtd serves 5 requests per client at a time; one is left for
 * listings and events), so that a slow blade holds few workers.
 */
public final class Blade {
    /** CALLS_AT_ONCE is how many reconciles may call this blade at the same time. */
    public static final int CALLS_AT_ONCE = 4;

    private volatile ControllerConfig.Blade config;
    private volatile boolean retired;
    private volatile java.time.Instant downSince;
    private final BladeLink link;
    private final BladeView view;
    private final Semaphore calls = new Semaphore(CALLS_AT_ONCE);
    private volatile NodeResources node;
    private volatile boolean fullRefreshDue = true;

    public Blade(ControllerConfig.Blade config, BladeLink link) {
        this.config = config;
        this.link = link;
        this.view = new BladeView(config.name());
    }

    public String name() {
        return config.name();
    }

    public ControllerConfig.Blade config() {
        return config;
    }

    /** A new config for this blade (same name and URI): schedulable, reserved, capacity, drain apply at once. */
    public void reconfigure(ControllerConfig.Blade fresh) {
        this.config = fresh;
    }

    /**
     * The blade left the config: its link is closed and it is never placed
     * on, but what was last seen of it stays (shown unreachable), so that no
     * VM that lives there is made again elsewhere.
     */
    public void retire() {
        retired = true;
        view.markUp(false);
        link.close();
    }

    /** True once the blade left the config. */
    public boolean retired() {
        return retired;
    }

    public BladeLink link() {
        return link;
    }

    public BladeView view() {
        return view;
    }

    /** The blade's calls while it is connected. */
    public Optional<Hypervisor> hypervisor() {
        return link.hypervisor();
    }

    public void connected() {
        view.markUp(true);
        downSince = null;
        fullRefreshDue = true;
    }

    public void disconnected(java.time.Instant at) {
        view.markUp(false);
        if (downSince == null) {
            downSince = at;
        }
    }

    /** Since when the blade has been unreachable (the controller's start, if it never answered); null while up. */
    public java.time.Instant downSince() {
        return view.isUp() ? null : downSince;
    }

    /** The blade did not answer since {@code at} (the controller started then). */
    public void unansweredSince(java.time.Instant at) {
        if (!view.isUp() && downSince == null) {
            downSince = at;
        }
    }

    /** Asks for a full listing at the next refresh (resync, reconnect). */
    public void fullRefreshDue() {
        fullRefreshDue = true;
    }

    /** True once: a full listing is due. */
    public boolean takeFullRefresh() {
        boolean due = fullRefreshDue;
        fullRefreshDue = false;
        return due;
    }

    public void node(NodeResources resources) {
        this.node = resources;
    }

    /**
     * What VMs may use here: each of the config's capacity figures, else what
     * the blade reports, minus reserved.
     */
    public ControllerConfig.Resources capacity() {
        ControllerConfig.Capacity given = config.capacity();
        int vcpus = given.vcpus().orElse(node == null ? 0 : node.cpus());
        long memory = given.memoryBytes().orElse(node == null ? 0 : node.memoryBytes());
        return new ControllerConfig.Resources(Math.max(0, vcpus - config.reserved().vcpus()),
                Math.max(0, memory - config.reserved().memoryBytes()));
    }

    /** Takes a call slot, waiting at most {@code wait}; false when the blade is saturated. */
    public boolean acquire(Duration wait) throws InterruptedException {
        return calls.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    public void release() {
        calls.release();
    }
}
