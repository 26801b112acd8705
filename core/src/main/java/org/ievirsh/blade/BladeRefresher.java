package org.ievirsh.blade;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.libvirt.DomainSummary;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.HypervisorException;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.template.DomainMetadata;

/**
 * BladeRefresher brings a {@link BladeView} up to date from its blade: a full
 * listing (one bulk call, plus the metadata of domains not seen before), or
 * only the domains that events named. It returns the users whose domains
 * changed, so that they can be reconciled.
 */
public final class BladeRefresher {
    private BladeRefresher() {
    }

    /** Lists the whole blade and updates the view; every domain new to the view is read once. */
    public static Set<String> fullRefresh(BladeView view, Hypervisor hypervisor) throws HypervisorException {
        long listedAt = BladeView.sequence();
        List<DomainSummary> summaries = hypervisor.listAll();
        Set<String> changed = new HashSet<>();
        Set<String> present = new HashSet<>();
        for (DomainSummary summary : summaries) {
            present.add(summary.uuid());
            Optional<ObservedDomain> known = view.get(summary.uuid());
            if (known.isPresent()) {
                ObservedDomain before = known.get();
                if (unchanged(before, summary)) {
                    continue;  // most of a listing of 40,000: nothing to make, compare or store
                }
                Optional<String> live = before.liveRenderHash();
                if (summary.state().isActive() && (!before.isActive() || live.isEmpty())) {
                    live = liveRenderHash(hypervisor, summary.uuid());
                }
                ObservedDomain now = new ObservedDomain(view.blade(), summary.uuid(), summary.name(), summary.state(),
                        summary.stopReason(), before.config(), summary.state().isActive() ? live : Optional.empty(),
                        before.drifted());
                if (view.putIfNewer(now, listedAt)) {
                    changed.add(now.config().user());
                }
            } else if (!view.knows(summary.uuid())) {
                load(view, hypervisor, summary, listedAt).ifPresent(d -> changed.add(d.config().user()));
            }
        }
        for (ObservedDomain gone : view.all()) {
            if (!present.contains(gone.uuid()) && view.get(gone.uuid()).isPresent()) {
                // Only forget what the listing should have shown: a domain defined after it began stays.
                if (!definedSince(view, gone, listedAt)) {
                    view.remove(gone.uuid());
                    changed.add(gone.config().user());
                }
            }
        }
        view.markListed(listedAt);
        return changed;
    }

    /** True when the listing says of {@code before} what the view holds: the domain it would make is the same. */
    private static boolean unchanged(ObservedDomain before, DomainSummary summary) {
        boolean liveAsItWouldBe = summary.state().isActive()
                ? before.isActive() && before.liveRenderHash().isPresent()
                : before.liveRenderHash().isEmpty();
        return liveAsItWouldBe && summary.state() == before.state() && summary.stopReason() == before.stopReason()
                && summary.name().equals(before.name());
    }

    private static boolean definedSince(BladeView view, ObservedDomain domain, long listedAt) {
        return !view.putIfNewerCheck(domain.uuid(), listedAt);
    }

    /** Applies the events queued since the last refresh: one lookup per domain named. */
    public static Set<String> applyEvents(BladeView view, Hypervisor hypervisor) throws HypervisorException {
        Set<String> changed = new HashSet<>();
        for (BladeView.PendingChange change : view.drainEvents()) {
            long seenAt = BladeView.sequence();
            Optional<DomainSummary> now = hypervisor.lookup(change.uuid());
            Optional<ObservedDomain> before = view.get(change.uuid());
            if (now.isEmpty()) {
                view.remove(change.uuid()).ifPresent(d -> changed.add(d.config().user()));
                continue;
            }
            DomainSummary summary = now.get();
            if (before.isEmpty() && !change.defined() && view.knows(change.uuid())) {
                continue; // a domain that is not ours started or stopped
            }
            if (before.isEmpty() || change.defined()) {
                Optional<ObservedDomain> loaded = load(view, hypervisor, withReason(summary, change, before), seenAt);
                loaded.ifPresent(d -> changed.add(d.config().user()));
                if (loaded.isEmpty()) {
                    view.remove(change.uuid()).ifPresent(d -> changed.add(d.config().user()));
                }
                continue;
            }
            ObservedDomain old = before.get();
            Optional<String> live = old.liveRenderHash();
            if (summary.state().isActive() && (change.started() || live.isEmpty())) {
                live = liveRenderHash(hypervisor, summary.uuid());
            }
            DomainSummary reasoned = withReason(summary, change, before);
            ObservedDomain updated = new ObservedDomain(view.blade(), old.uuid(), summary.name(), summary.state(),
                    reasoned.stopReason(), old.config(), summary.state().isActive() ? live : Optional.empty(),
                    old.drifted());
            if (view.putIfNewer(updated, seenAt)) {
                changed.add(updated.config().user());
            }
        }
        return changed;
    }

    private static DomainSummary withReason(DomainSummary summary, BladeView.PendingChange change,
                                            Optional<ObservedDomain> before) {
        StopReason reason = StopReason.UNKNOWN;
        if (!summary.state().isActive()) {
            if (change.stopReason() != null) {
                reason = change.stopReason();
            } else if (before.isPresent() && !before.get().isActive()) {
                reason = before.get().stopReason();
            }
        }
        return new DomainSummary(summary.uuid(), summary.name(), summary.state(), reason);
    }

    /** Reads a domain's metadata; records it as managed (ours) or as another's domain. */
    private static Optional<ObservedDomain> load(BladeView view, Hypervisor hypervisor, DomainSummary summary,
                                                 long seenAt) throws HypervisorException {
        Optional<DomainMetadata> metadata;
        try {
            metadata = hypervisor.metadata(summary.uuid(), DomainMetadata.NAMESPACE, false)
                    .flatMap(DomainMetadata::parse);
        } catch (HypervisorException e) {
            if (e.isNotFound()) {
                return Optional.empty();
            }
            throw e;
        }
        if (metadata.isEmpty()) {
            view.putOther(summary.uuid(), summary.name());
            return Optional.empty();
        }
        Optional<String> live = summary.state().isActive() ? liveRenderHash(hypervisor, summary.uuid())
                : Optional.empty();
        // Read afresh (first seen since connecting, or defined by someone else): put it back to what its
        // file says once, whatever was changed while we did not look.
        boolean drifted = true;
        ObservedDomain domain = new ObservedDomain(view.blade(), summary.uuid(), summary.name(), summary.state(),
                summary.stopReason(), metadata.get(), live, drifted);
        view.putIfNewer(domain, seenAt);
        return Optional.of(domain);
    }

    private static Optional<String> liveRenderHash(Hypervisor hypervisor, String uuid) throws HypervisorException {
        try {
            return hypervisor.metadata(uuid, DomainMetadata.NAMESPACE, true)
                    .flatMap(DomainMetadata::parse).map(DomainMetadata::renderHash);
        } catch (HypervisorException e) {
            if (e.isNotFound() || e.isInvalidOperation()) {
                return Optional.empty();
            }
            throw e;
        }
    }
}
