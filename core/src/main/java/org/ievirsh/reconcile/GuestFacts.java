package org.ievirsh.reconcile;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ievirsh.address.AddressBook;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Expiry;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.template.Template;
import org.ievirsh.template.TemplateLibrary;
import org.ievirsh.users.Owner;

/**
 * GuestFacts gathers what is known of a VM from outside its file and its
 * domain: the addresses its NICs have now (from the {@link AddressBook}),
 * and when it ends (its file's {@code spec.expires} and the admin's date for
 * its owner, the README's "The semester").
 */
final class GuestFacts {
    private final AddressBook addresses;
    private final org.ievirsh.course.ConsoleWatch watch;
    private final java.util.function.Supplier<ControllerConfig.Lifecycle> lifecycles;
    private final TemplateLibrary templates;
    private final Clock clock;

    GuestFacts(AddressBook addresses, org.ievirsh.course.ConsoleWatch watch,
               java.util.function.Supplier<ControllerConfig.Lifecycle> lifecycles, TemplateLibrary templates,
               Clock clock) {
        this.addresses = addresses;
        this.watch = watch;
        this.lifecycles = lifecycles;
        this.templates = templates;
        this.clock = clock;
    }

    /** A count that moves when {@code user}'s addresses change, or an instructor opens or closes a console of theirs. */
    long generation(String user) {
        return addresses.generation(user) + watch.generation(user);
    }

    /** The admin's end of {@code owner}'s VMs (their entry, else their groups', else the default). */
    Optional<Expiry> adminExpiry(Owner owner) {
        return lifecycles.get().expiryOf(owner.user(), owner.groups(), clock.getZone());
    }

    /** A VM's guest as the student sees it: its addresses, and how long it lives. */
    record Guest(List<VmStatus.Address> addresses, VmFacts.Lifetime lifetime) {
    }

    /**
     * Each VM's addresses (while its domain runs) and its lifetime, by VM
     * name: a course VM ends with its course too.
     */
    Map<String, Guest> gather(Owner owner, java.util.Collection<VmSoFar> vms) {
        ControllerConfig.Lifecycle lifecycle = lifecycles.get();
        Optional<Expiry> admin = lifecycle.expiryOf(owner.user(), owner.groups(), clock.getZone());
        Map<String, Guest> guests = new java.util.HashMap<>();
        for (VmSoFar vm : vms) {
            List<VmStatus.Address> found = List.of();
            ObservedDomain d = vm.domain();
            if (d != null && d.isActive()) {
                boolean agent = vm.desired() instanceof Desired.Valid valid
                        && templates.get(valid.template()).map(Template::guestAgent).orElse(false);
                found = addresses.running(vm.key(), owner.user(), d.uuid(), d.blade(), d.config().macs(), agent);
            } else {
                addresses.notRunning(vm.key());
            }
            Optional<Expiry> file = vm.desired() instanceof Desired.Valid valid ? valid.vm().expires()
                    : Optional.empty();
            Optional<Expiry> end = vm.course().map(c -> Expiry.earliest(c.expires(), admin, clock.getZone()))
                    .orElse(admin);
            guests.put(vm.name(), new Guest(found, new VmFacts.Lifetime(file.map(e -> e.at(clock.getZone())),
                    end.map(e -> e.at(clock.getZone())), end.map(Expiry::toString).orElse(""),
                    lifecycle.warnBefore(), clock.getZone())));
        }
        return guests;
    }

    /** The VM {@code key} is gone: nothing of it is followed any more. */
    void forget(String key) {
        addresses.notRunning(key);
    }
}
