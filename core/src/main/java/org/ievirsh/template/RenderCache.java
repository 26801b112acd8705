package org.ievirsh.template;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RenderCache keeps each VM's last rendering (of one student) and gives it
 * back while its inputs are the same, so that the same rendering object (and
 * its equality) carries over from pass to pass.
 */
public final class RenderCache {
    private final Map<String, Entry> byVm = new ConcurrentHashMap<>();

    private record Entry(DomainRenderer.Input input, RenderedDomain rendered) {
    }

    /** The rendering of {@code in} for the VM {@code vm}, reused when nothing changed. */
    public RenderedDomain render(String vm, DomainRenderer.Input in) {
        Entry entry = byVm.get(vm);
        if (entry != null && entry.input().equals(in)) {
            // The same inputs give the same rendering: no hashing at every resync.
            return entry.rendered();
        }
        RenderedDomain fresh = DomainRenderer.render(in);
        if (entry != null && entry.rendered().sameTextAs(fresh)) {
            byVm.put(vm, new Entry(in, entry.rendered()));
            return entry.rendered();
        }
        byVm.put(vm, new Entry(in, fresh));
        return fresh;
    }

    /** Forgets every VM but {@code vms}. */
    public void keepOnly(Set<String> vms) {
        byVm.keySet().retainAll(vms);
    }
}
