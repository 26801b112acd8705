package org.ievirsh.reconcile;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.ievirsh.template.DomainIdentity;

/**
 * NamingPlanner chooses a VM's domain name and MAC addresses. Pure: what
 * the fleet has in use is given to it as questions. An existing domain keeps
 * its name, and its MACs while they fit the template and no other VM has
 * one; a new domain is {@code <user>-<vm>}, or the fallback name when
 * another student's domain already has that name; new MACs are the VM's
 * own stable ones, skipping any in use.
 */
final class NamingPlanner {
    private NamingPlanner() {
    }

    /** {@code existing}: the name of the VM's domain, if it has one; {@code takenByAnother}: is a name another's? */
    static String domainName(Optional<String> existing, String user, String vm, Predicate<String> takenByAnother) {
        if (existing.isPresent()) {
            return existing.get();
        }
        String name = DomainIdentity.domainName(user, vm);
        return takenByAnother.test(name) ? DomainIdentity.fallbackName(user, vm) : name;
    }

    /** {@code existing}: the MACs of the VM's domain (empty when it has none); {@code inUse}: is a MAC another's? */
    static List<String> macs(List<String> existing, int nics, Predicate<String> inUse, String user, int uid,
                             String vm) {
        if (!existing.isEmpty() && existing.size() == nics && existing.stream().noneMatch(inUse)) {
            return existing;
        }
        return DomainIdentity.macsFor(user, uid, vm, nics, inUse);
    }
}
