package org.ievirsh.reconcile;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.spec.SpecReader;
import org.ievirsh.status.StatusWriter;
import org.ievirsh.template.RenderCache;

/**
 * UserMemory is everything the controller remembers of one student between
 * passes, in one object: dropped whole when the student's directory goes,
 * so that nothing of theirs lingers in a map cleared by hand. Only that
 * student's reconcile touches it (one key never runs twice at once).
 */
final class UserMemory {
    /** What happened to each VM (stops asked for, crashes, starts). */
    final Map<String, VmHistory> histories = new HashMap<>();
    /** When each VM was first seen wanting to start: the start of its start latency. */
    final Map<String, Instant> startWantedSince = new HashMap<>();
    /** Each VM's phase as last published, so that only a change is logged. */
    final Map<String, Phase> phases = new HashMap<>();
    final RenderCache renders = new RenderCache();
    final SpecReader.Memory specs = new SpecReader.Memory();
    final ImageChecker.Memory images = new ImageChecker.Memory();
    final StatusWriter.Memory statuses = new StatusWriter.Memory();
    final NothingChanged unchanged = new NothingChanged();
    /** The last problem writing the status that was logged, so that it is logged once. */
    String statusProblem;

    /** Forgets the VMs that are gone (neither a file nor a domain any more). */
    void keepOnly(java.util.Set<String> vms) {
        histories.keySet().retainAll(vms);
        startWantedSince.keySet().retainAll(vms);
        phases.keySet().retainAll(vms);
        renders.keepOnly(vms);
    }
}
