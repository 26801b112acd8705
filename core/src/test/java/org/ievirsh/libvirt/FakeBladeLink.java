package org.ievirsh.libvirt;

import java.util.Optional;

/** FakeBladeLink links the controller to a {@link FakeHypervisor}; tests take the blade down and up. */
public final class FakeBladeLink implements BladeLink {
    private final FakeHypervisor hypervisor;
    private volatile boolean up = true;
    private Listener listener;

    public FakeBladeLink(FakeHypervisor hypervisor) {
        this.hypervisor = hypervisor;
    }

    @Override
    public String blade() {
        return hypervisor.blade();
    }

    @Override
    public void start(Listener listener) {
        this.listener = listener;
        hypervisor.onEvent(e -> {
            if (up) {
                listener.onEvent(e);
            }
        });
        if (up) {
            listener.onConnected(blade());
        } else {
            listener.onConnectFailed(blade(), "connection refused");
        }
    }

    private volatile boolean callableWhileDown;

    @Override
    public Optional<Hypervisor> hypervisor() {
        return up || callableWhileDown ? Optional.of(hypervisor) : Optional.empty();
    }

    /**
     * The blade is reported gone, yet every call would still go through: a
     * test of the controller's own judgment (it must not act on a blade it
     * believes away), not of the fake's refusal.
     */
    public void downButCallable() {
        callableWhileDown = true;
        down();
    }

    @Override
    public void callFailed(HypervisorException failure) {
    }

    @Override
    public boolean attempted() {
        return true;
    }

    @Override
    public String lastError() {
        return up ? "" : "connection refused";
    }

    /** The blade goes away (libvirtd stopped, network cut). */
    public void down() {
        up = false;
        if (listener != null) {
            listener.onDisconnected(blade(), "connection refused");
        }
    }

    /** The blade is back. */
    public void up() {
        up = true;
        callableWhileDown = false;
        if (listener != null) {
            listener.onConnected(blade());
        }
    }

    @Override
    public void close() {
    }
}
