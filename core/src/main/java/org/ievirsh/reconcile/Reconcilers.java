package org.ievirsh.reconcile;

import java.time.Clock;
import java.util.function.Consumer;
import org.ievirsh.address.AddressBook;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.Migrations;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.image.Inspections;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusWriter;
import org.ievirsh.template.TemplateLibrary;
import org.ievirsh.users.UserDirectories;
import org.ievirsh.users.UserIndex;

/** Reconcilers puts a {@link UserReconciler} together from its four stages (for the controller's wiring). */
public final class Reconcilers {

    private Reconcilers() {
    }

    /**
     * The user reconciler; {@code clock} is wall time (the facts' "now"),
     * {@code files} the clock files are stamped with, and {@code wake} asks
     * for a user's reconcile (when a look inside an image ends).
     */
    public static UserReconciler users(java.util.function.Supplier<ControllerConfig> config, UserIndex index, UserDirectories directories,
                                       TemplateLibrary templates, ImageChecker images, Inspections inspections,
                                       Fleet fleet, StatusBook book, DeletionGuard guard, Metrics metrics,
                                       PerVmCollector perVm, AddressBook addresses, Migrations migrations,
                                       org.ievirsh.image.BaseImages bases, org.ievirsh.course.ConsoleWatch watch,
                                       Clock clock, Clock files, Consumer<String> wake) {
        GuestFacts guest = new GuestFacts(addresses, watch, () -> config.get().lifecycle(), templates, clock);
        Gatherer gatherer = new Gatherer(config, directories, templates, images, inspections, fleet, book,
                clock, files, guest, new DiskGathering(bases, inspections, config.get().images().root()));
        Converger converger = new Converger(fleet, inspections, migrations, guard, metrics, clock, wake,
                gatherer::bladeDown, config.get().images().root());
        StatusWriter writer = statusWriter(clock);
        Publisher publisher = new Publisher(writer, book, metrics, perVm, watch);
        // What is remembered of a student elsewhere, dropped when their directory goes (their VMs stay).
        java.util.List<Consumer<String>> forgetting = java.util.List.of(book::removeUser, metrics::forgetUser,
                perVm::forget, guard::forgetUser, addresses::forgetUser);
        return new UserReconciler(index, fleet, inspections, gatherer, new Bookkeeping(fleet, migrations, guard),
                converger, publisher, forgetting, clock);
    }

    /** The writer of students' status files, stamping them on {@code clock} to the second. */
    public static StatusWriter statusWriter(Clock clock) {
        return new StatusWriter(StatusWriter.Time.seconds(clock));
    }
}
