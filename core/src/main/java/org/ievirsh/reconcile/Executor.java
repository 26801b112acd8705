package org.ievirsh.reconcile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.libvirt.LifecycleEvent;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.template.DomainMetadata;
import org.ievirsh.template.RenderedDomain;

/**
 * Executor makes the libvirt calls of a plan, in order, stopping at the first
 * failure, and records each result in the blade's view at once, so the next
 * plan sees it without waiting for an event or a listing.
 */
public final class Executor {
    /** SLOT_WAIT is how long a call waits for a free slot on a busy blade before it is retried later. */
    static final Duration SLOT_WAIT = Duration.ofMillis(250);

    private final Fleet fleet;

    public Executor(Fleet fleet) {
        this.fleet = fleet;
    }

    /** Kind of failure, for what comes next: wait a moment, back off, or wait for a change. */
    public enum Kind {
        /** BUSY: every call slot of the blade is taken; try again in a moment (not an error). */
        BUSY,
        /** UNREACHABLE: the blade is not connected. */
        UNREACHABLE,
        /** FAILED: libvirt refused or failed the call; retried with back-off. */
        FAILED,
        /** REFUSED: libvirt refused the definition itself; retrying cannot help until it changes. */
        REFUSED,
        /** LOCKED: the lock manager refused the start: another QEMU has the image; retried with back-off. */
        LOCKED
    }

    /** Outcome lists the actions that succeeded, and the failure that stopped the rest, if any. */
    public record Outcome(List<Action> done, Optional<String> failure, Kind kind) {
        public boolean ok() {
            return failure.isEmpty();
        }

        static Outcome failed(List<Action> done, String why, Kind kind) {
            return new Outcome(done, Optional.of(why), kind);
        }
    }

    /**
     * Runs the libvirt {@code actions} of one VM. {@code rendered} is its
     * domain as defined by a Define action; {@code known} is its domain as
     * observed, if it exists.
     */
    public Outcome run(List<Action> actions, RenderedDomain rendered, Optional<ObservedDomain> known) {
        List<Action> done = new ArrayList<>();
        Optional<ObservedDomain> current = known;
        for (int i = 0; i < actions.size(); i++) {
            Action action = actions.get(i);
            Action next = i + 1 < actions.size() ? actions.get(i + 1) : null;
            boolean fused = action instanceof Action.Define define && next instanceof Action.Start start
                    && define.uuid().equals(start.uuid()) && define.blade().equals(start.blade());
            Blade blade = fleet.blade(action.blade()).orElse(null);
            if (blade == null) {
                return Outcome.failed(done, "blade " + action.blade() + " is not in the config", Kind.FAILED);
            }
            Optional<Hypervisor> hypervisor = blade.hypervisor();
            if (hypervisor.isEmpty()) {
                return Outcome.failed(done, "blade " + blade.name() + " is unreachable: " + blade.link().lastError(),
                        Kind.UNREACHABLE);
            }
            try {
                if (!blade.acquire(SLOT_WAIT)) {
                    return Outcome.failed(done, "blade " + blade.name() + " is busy", Kind.BUSY);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Outcome.failed(done, "interrupted", Kind.BUSY);
            }
            try {
                if (fused) {
                    current = defineAndStart(blade, hypervisor.get(), (Action.Define) action, rendered);
                    done.add(action);
                    done.add(next);
                    i++;
                } else {
                    current = apply(blade, hypervisor.get(), action, rendered, current);
                    done.add(action);
                }
            } catch (HypervisorException e) {
                if (e.isConnectionLost()) {
                    blade.link().callFailed(e);
                }
                if (fused && e.definedFirst()) {
                    // The domain exists now even though it did not start: the view must know it.
                    blade.view().put(defined(blade, ((Action.Define) action).uuid(), rendered, current));
                    done.add(action);
                }
                return Outcome.failed(done, e.getMessage(), e.isDefinitionRefused() ? Kind.REFUSED
                        : e.isConnectionLost() ? Kind.UNREACHABLE
                        : e.kind() == HypervisorException.Kind.IN_USE ? Kind.LOCKED : Kind.FAILED);
            } finally {
                blade.release();
            }
        }
        return new Outcome(done, Optional.empty(), null);
    }

    /** A new domain defined and started in one go: the usual path of a new VM. */
    private static Optional<ObservedDomain> defineAndStart(Blade blade, Hypervisor hv, Action.Define define,
                                                           RenderedDomain rendered) throws HypervisorException {
        blade.view().expect(define.uuid(), Set.of(LifecycleEvent.Kind.DEFINED, LifecycleEvent.Kind.STARTED,
                LifecycleEvent.Kind.RESUMED));
        String uuid = hv.defineAndStart(define.xml());
        ObservedDomain running = new ObservedDomain(blade.name(), uuid, rendered.domainName(), DomainState.RUNNING,
                StopReason.UNKNOWN, rendered.metadata(), Optional.of(rendered.renderHash()), false);
        blade.view().put(running);
        return Optional.of(running);
    }

    private static ObservedDomain defined(Blade blade, String uuid, RenderedDomain rendered,
                                          Optional<ObservedDomain> current) {
        return new ObservedDomain(blade.name(), uuid, rendered.domainName(),
                current.map(ObservedDomain::state).orElse(DomainState.SHUTOFF),
                current.map(ObservedDomain::stopReason).orElse(StopReason.UNKNOWN), rendered.metadata(),
                current.flatMap(ObservedDomain::liveRenderHash), false);
    }

    private interface Call {
        void run() throws HypervisorException;
    }

    /** Makes a call that libvirt may refuse as pointless in the domain's state (starting a running domain). */
    private static void unlessPointless(Call call) throws HypervisorException {
        try {
            call.run();
        } catch (HypervisorException e) {
            // Already in the state asked for (an event or listing will tell us more): not a failure.
            if (!e.isInvalidOperation()) {
                throw e;
            }
        }
    }

    private static String uuidOf(Action action) {
        if (action instanceof Action.Start a) {
            return a.uuid();
        }
        if (action instanceof Action.Shutdown a) {
            return a.uuid();
        }
        if (action instanceof Action.Destroy a) {
            return a.uuid();
        }
        if (action instanceof Action.Undefine a) {
            return a.uuid();
        }
        throw new IllegalArgumentException("not a call on a domain: " + action);
    }

    private static Optional<ObservedDomain> apply(Blade blade, Hypervisor hv, Action action, RenderedDomain rendered,
                                                  Optional<ObservedDomain> current) throws HypervisorException {
        if (action instanceof Action.Define define) {
            blade.view().expect(define.uuid(), Set.of(LifecycleEvent.Kind.DEFINED));
            ObservedDomain defined = defined(blade, hv.define(define.xml()), rendered, current);
            blade.view().put(defined);
            return Optional.of(defined);
        }
        String uuid = uuidOf(action);
        ObservedDomain domain = current.filter(d -> d.uuid().equals(uuid) && d.blade().equals(blade.name()))
                .or(() -> blade.view().get(uuid)).orElseThrow(() -> HypervisorException.notFound("the domain"));
        if (action instanceof Action.Start) {
            blade.view().expect(domain.uuid(), Set.of(LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.RESUMED));
            unlessPointless(() -> hv.start(domain.uuid()));
            ObservedDomain running = new ObservedDomain(domain.blade(), domain.uuid(), domain.name(),
                    DomainState.RUNNING, StopReason.UNKNOWN, domain.config(),
                    Optional.of(domain.config().renderHash()), domain.drifted());
            blade.view().put(running);
            return Optional.of(running);
        }
        if (action instanceof Action.Shutdown) {
            unlessPointless(() -> hv.shutdown(domain.uuid()));
            return current;
        }
        if (action instanceof Action.Destroy) {
            blade.view().expect(domain.uuid(), Set.of(LifecycleEvent.Kind.STOPPED, LifecycleEvent.Kind.SHUTDOWN));
            unlessPointless(() -> hv.destroy(domain.uuid()));
            ObservedDomain off = domain.withState(DomainState.SHUTOFF, StopReason.DESTROYED);
            blade.view().put(off);
            return Optional.of(off);
        }
        if (action instanceof Action.Undefine) {
            // Make sure the domain is still the one we mean before removing it.
            Optional<String> metadata = hv.metadata(domain.uuid(), DomainMetadata.NAMESPACE, false);
            if (metadata.flatMap(DomainMetadata::parse)
                    .filter(m -> m.user().equals(domain.config().user()) && m.vm().equals(domain.config().vm()))
                    .isEmpty()) {
                throw new HypervisorException(HypervisorException.Kind.OTHER, "domain " + domain.name()
                        + " no longer carries the metadata of " + domain.config().user() + "/"
                        + domain.config().vm() + "; it is left alone");
            }
            blade.view().expect(domain.uuid(), Set.of(LifecycleEvent.Kind.UNDEFINED));
            try {
                hv.undefine(domain.uuid());
            } catch (HypervisorException e) {
                if (!e.isNotFound()) {
                    throw e;
                }
            }
            blade.view().remove(domain.uuid());
            return Optional.empty();
        }
        throw new IllegalArgumentException("not a libvirt call: " + action);
    }
}
