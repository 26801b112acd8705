package org.ievirsh.blade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Optional;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.DomainSummary;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.libvirt.LifecycleEvent;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.template.DomainMetadata;
import org.junit.jupiter.api.Test;

/**
 * A live move ends while the source blade's refresher is asking that blade
 * about the domain: the source still answers with it, but the move, recorded
 * meanwhile, is newer news, and the domain must not come back to the
 * source's view (the student would see "a domain on 2 blades" for a moment).
 */
class BladeRefresherTest {
    private static final String UUID = "6a3e4c5e-0000-4000-8000-000000000001";
    private static final DomainSummary PAUSED = new DomainSummary(UUID, "alice-web", DomainState.PAUSED,
            StopReason.UNKNOWN);
    private static final DomainMetadata CONFIG = new DomainMetadata(1001, "alice", "web", "s", "r",
            List.of("52:54:00:00:00:01"), 1, 1L << 30, Optional.empty());

    /** A source blade that still shows the domain, and finishes the move ({@code moved}) while it is asked. */
    private static Hypervisor sourceFinishingTheMoveWhenAsked(String askedBy, Runnable moved) {
        return (Hypervisor) Proxy.newProxyInstance(Hypervisor.class.getClassLoader(), new Class<?>[] {Hypervisor.class},
                (proxy, method, args) -> {
                    if (method.getName().equals(askedBy)) {
                        moved.run();
                    }
                    return switch (method.getName()) {
                        case "blade" -> "b1";
                        case "listAll" -> List.of(PAUSED);
                        case "lookup" -> Optional.of(PAUSED);
                        case "metadata" -> Optional.of("<iev:vm xmlns:iev='" + DomainMetadata.NAMESPACE
                                + "' uid='1001' user='alice' name='web' specHash='s' renderHash='r'"
                                + " macs='52:54:00:00:00:01' vcpus='1' memory='1073741824'/>");
                        default -> throw new UnsupportedOperationException(method.getName());
                    };
                });
    }

    private static BladeView sourceHoldingTheDomain() {
        BladeView view = new BladeView("b1");
        view.put(new ObservedDomain("b1", UUID, "alice-web", DomainState.RUNNING, StopReason.UNKNOWN, CONFIG,
                Optional.of("r"), false));
        return view;
    }

    @Test
    void anEventLookedUpWhileTheMoveEndsDoesNotBringTheDomainBack() throws Exception {
        BladeView view = sourceHoldingTheDomain();
        view.queueEvent(new LifecycleEvent("b1", UUID, "alice-web", LifecycleEvent.Kind.SUSPENDED,
                StopReason.UNKNOWN));
        BladeRefresher.applyEvents(view, sourceFinishingTheMoveWhenAsked("lookup", () -> view.remove(UUID)));
        assertEquals(Optional.empty(), view.get(UUID), "the moved domain came back to its source's view");
        assertTrue(view.ofUser("alice").isEmpty());
    }

    @Test
    void aListingBegunBeforeTheMoveEndedDoesNotBringTheDomainBack() throws Exception {
        BladeView view = sourceHoldingTheDomain();
        BladeRefresher.fullRefresh(view, sourceFinishingTheMoveWhenAsked("listAll", () -> view.remove(UUID)));
        assertEquals(Optional.empty(), view.get(UUID), "the moved domain came back to its source's view");
    }

    @Test
    void aDomainForgottenBeforeTheLookupBeganIsReadAgain() throws Exception {
        BladeView view = sourceHoldingTheDomain();
        view.remove(UUID);
        view.queueEvent(new LifecycleEvent("b1", UUID, "alice-web", LifecycleEvent.Kind.DEFINED,
                StopReason.UNKNOWN));
        BladeRefresher.applyEvents(view, sourceFinishingTheMoveWhenAsked("none", () -> { }));
        assertEquals(DomainState.PAUSED, view.get(UUID).orElseThrow().state(), "news after the removal is lost");
    }
}
