package org.ievirsh.controller;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.libvirt.BladeLink;

/**
 * BladeChanges applies a new config's blades to the fleet: a known blade is
 * reconfigured (schedulable, reserved, capacity, drain), a new one added
 * (not connected yet), one left out retired: forgotten, its VMs left as they
 * are. A blade whose URI changed needs a restart.
 */
final class BladeChanges {
    private static final Logger LOG = Logger.getLogger(Controller.class.getName());

    private BladeChanges() {
    }

    /**
     * Applies {@code fresh}; adds to {@code restart} what needs one, tells
     * {@code added} each new blade, and returns the new blades to connect.
     */
    static List<Blade> apply(Fleet fleet, List<ControllerConfig.Blade> fresh,
                             Function<ControllerConfig.Blade, BladeLink> links, List<String> restart,
                             Consumer<Blade> added) {
        List<Blade> connect = new ArrayList<>();
        for (ControllerConfig.Blade blade : fresh) {
            Optional<Blade> known = fleet.blade(blade.name());
            if (known.isPresent() && !known.get().retired() && known.get().config().uri().equals(blade.uri())) {
                known.get().reconfigure(blade);
            } else if (known.isPresent()) {
                restart.add("the uri of blade " + blade.name());
            } else {
                Blade made = new Blade(blade, links.apply(blade));
                fleet.add(made);
                added.accept(made);
                connect.add(made);
                LOG.info("config: blade " + blade.name() + " added (" + blade.uri() + ")");
            }
        }
        for (Blade blade : fleet.blades()) {
            if (!blade.retired() && fresh.stream().noneMatch(b -> b.name().equals(blade.name()))) {
                blade.retire();
                LOG.warning("config: blade " + blade.name() + " is no longer in the config: it is forgotten, and its "
                        + blade.view().allocated()[2] + " VMs stay there as they are (shown unreachable)");
            }
        }
        return connect;
    }
}
