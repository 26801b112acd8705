package org.ievirsh.reconcile;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Expiry;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.image.Inspections;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.quota.Admission;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.spec.CourseFit;
import org.ievirsh.spec.SpecEntry;
import org.ievirsh.spec.SpecReader;
import org.ievirsh.spec.UserFiles;
import org.ievirsh.status.StatusBook;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.RenderedDomain;
import org.ievirsh.template.Template;
import org.ievirsh.template.TemplateLibrary;
import org.ievirsh.users.Owner;
import org.ievirsh.users.UserDirectories;
import org.ievirsh.users.UserIndex;

/**
 * Gatherer reads everything one student's pass depends on, afresh: the
 * directory and its VM files, the student's domains as the blades report
 * them, the last statuses while a blade is away, quota, images (and what is
 * known of their inside) and renderings; and hands it over as immutable
 * {@link VmFacts}. The decisions gathering depends on are the pure
 * planners': what a file asks ({@link DesiredPlanner}), what the domains are
 * ({@link ObservationPlanner}), the quota ({@link AdmissionPlanner}), which
 * VM an image shared by two serves ({@link ImagePlanner#sharedWith}), names
 * and MACs ({@link NamingPlanner}) and whether a VM may need room
 * ({@link PlacementPlanner}). It changes nothing but what the student's
 * memory keeps of their VMs: the room a VM is given on a blade and the
 * deletion guard's answers come after it, from {@link Bookkeeping}.
 */
final class Gatherer {
    private static final Logger LOG = Logger.getLogger(Gatherer.class.getName());

    private final java.util.function.Supplier<ControllerConfig> settings;
    private final UserDirectories directories;
    private final SpecReader specs = new SpecReader();
    private final TemplateLibrary templates;
    private final ImageChecker images;
    private final Inspections inspections;
    private final Fleet fleet;
    private final StatusBook book;
    private final Clock clock;
    private final Clock files;
    private final GuestFacts guest;
    private final DiskGathering disks;
    private final Instant startupGraceEnds;

    /** {@code files}: the clock the file system stamps files with (a stat settles by it). */
    Gatherer(java.util.function.Supplier<ControllerConfig> settings, UserDirectories directories, TemplateLibrary templates, ImageChecker images,
             Inspections inspections, Fleet fleet, StatusBook book, Clock clock, Clock files,
             GuestFacts guest, DiskGathering disks) {
        this.settings = settings;
        this.disks = disks;
        ControllerConfig config = settings.get();
        this.guest = guest;
        this.directories = directories;
        this.templates = templates;
        this.images = images;
        this.inspections = inspections;
        this.fleet = fleet;
        this.book = book;
        this.clock = clock;
        this.files = files;
        Duration grace = config.resync().multipliedBy(2);
        this.startupGraceEnds = clock.instant().plus(grace.compareTo(Duration.ofSeconds(5)) < 0
                ? Duration.ofSeconds(5) : grace);
    }

    /** One VM's facts in the making; only the gatherer sees it (others read a {@link VmSoFar}). */
    private static final class Draft {
        final String name;
        final String key;
        SpecEntry spec;
        Desired desired;
        Observation observation;
        VmHistory history;
        Admission.Verdict admission;
        ImageVerdict image;
        String imageInUseBy;
        Inspection inspection;
        RenderedDomain rendered;
        String domainName;
        Optional<String> nameTakenBy = Optional.empty();
        VmFacts.Blades blades = VmFacts.Blades.ALL_UP;
        List<VmStatus.Address> addresses = List.of();
        VmFacts.Lifetime lifetime = VmFacts.Lifetime.FOREVER;
        DiskFacts disk = DiskFacts.STANDALONE;

        Draft(String user, String name) {
            this.name = name;
            this.key = user + "/" + name;
        }

        ObservedDomain domain() {
            return observation instanceof Observation.Found found ? found.domain() : null;
        }

        boolean usable() {
            return desired instanceof Desired.Valid && admission.admitted() && image.accepted() && imageInUseBy == null;
        }
    }

    /** The config in force now (it may be replaced while the controller runs). */
    private ControllerConfig config() {
        return settings.get();
    }

    /** A number that moves when {@code user}'s addresses change or an instructor opens or closes their console. */
    long guestGeneration(String user) {
        return guest.generation(user);
    }

    /** A number that moves when the admin's catalogs change: the templates, the base images. */
    long catalogs() {
        return templates.generation() + disks.generation();
    }

    /** Gathers the facts of the student of {@code entry}; the result holds their directory open. */
    UserFacts gather(UserIndex.Entry entry, UserMemory memory) {
        ControllerConfig config = config();
        Owner owner = entry.owner();
        String user = owner.user();
        Instant now = clock.instant();
        QuietUser.Builder rests = new QuietUser.Builder(entry, files.millis() * 1_000_000L, catalogs(),
                inspections.generation(), guest.generation(user));
        List<ObservedDomain> domains = fleet.domainsOf(user);
        boolean[] bladesUp = new boolean[domains.size()];
        Map<String, List<ObservedDomain>> byVm = new HashMap<>();
        for (int i = 0; i < domains.size(); i++) {
            bladesUp[i] = fleet.bladeUp(domains.get(i).blade());
            byVm.computeIfAbsent(domains.get(i).config().vm(), k -> new ArrayList<>()).add(domains.get(i));
        }
        rests.domains(domains, bladesUp);

        SafeDir dir = null;
        UserFiles read = UserFiles.NONE;
        boolean readable = false;
        try {
            dir = directories.open(entry.directory());
            FileStat stat = dir.stat();
            rests.file(entry.directory(), Optional.of(stat));
            if (stat.uid() == entry.dirUid()) {
                read = specs.read(dir, entry.directory().toString(), owner.fileUid(), memory.specs,
                        config.users().maxFiles(), byVm.keySet());
                readable = true;
            } else {
                LOG.fine(() -> entry.directory() + " changed owner; left alone until the next discovery");
            }
        } catch (PosixException e) {
            LOG.fine(() -> "cannot read " + entry.directory() + ": " + e.getMessage());
        }

        Optional<Expiry> adminEnd = guest.adminExpiry(owner);
        Map<String, Draft> drafts = new TreeMap<>();
        Set<String> names = new TreeSet<>(read.vms().keySet());
        names.addAll(byVm.keySet());
        for (String name : names) {
            Draft vm = new Draft(user, name);
            drafts.put(name, vm);
            vm.observation = ObservationPlanner.observe(name, owner.uid(), byVm.getOrDefault(name, List.of()), fleet::bladeUp,
                    bladeDown(now));
            vm.history = memory.histories.getOrDefault(name, VmHistory.NEW).observe(vm.domain(), now);
            memory.histories.put(name, vm.history);
            vm.spec = read.vms().get(name);
            vm.desired = vm.spec == null ? (readable ? new Desired.Absent() : DesiredPlanner.unreadable(name))
                    : DesiredPlanner.of(vm.spec, config, templates, adminEnd, owner, vm.domain() != null, clock.getZone());
            vm.observation = ObservationPlanner.strandedIfItShouldRun(vm.observation, vm.desired, vm.history);
        }
        memory.keepOnly(drafts.keySet());
        QuotaLimits quota = QuotaLimits.resolve(config.quota(), owner.user(), owner.groups());
        Function<Draft, Optional<ControllerConfig.Course>> courseOf = vm -> vm.desired instanceof Desired.Valid valid
                ? CourseFit.countsIn(valid.vm(), config.courses(), owner.groups()) : Optional.empty();
        Function<Optional<ControllerConfig.Course>, QuotaLimits> limitsOf = course -> course
                .map(c -> QuotaLimits.ofCourse(config.quota(), c.quota())).orElse(quota);
        List<String> unreachable = fleet.unreachable();
        Map<String, VmStatus> last = unreachable.isEmpty() ? Map.of() : LastStatuses.read(user, dir, book);
        Map<String, VmStatus> away = AdmissionPlanner.away(last, seen(drafts), unreachable);
        AdmissionPlanner.admit(drafts.values().stream().map(vm -> quotaView(vm, courseOf, byVm)).toList(), away, limitsOf)
                .forEach((name, verdict) -> drafts.get(name).admission = verdict);
        checkImages(owner, drafts, memory, rests);
        disks.gather(owner, soFar(drafts, courseOf), dir, limitsOf, rests)
                .forEach((name, disk) -> drafts.get(name).disk = disk);
        render(owner, drafts, memory);
        bladesFor(drafts, last, unreachable);
        guest.gather(owner, soFar(drafts, courseOf)).forEach((name, seen) -> {
            drafts.get(name).addresses = seen.addresses();
            drafts.get(name).lifetime = seen.lifetime();
        });

        VmStatus.Owner statusOwner = new VmStatus.Owner(user, owner.uid());
        SortedMap<String, VmFacts> vms = new TreeMap<>();
        for (Draft vm : drafts.values()) {
            vms.put(vm.name, new VmFacts(vm.name, statusOwner,
                    new VmFacts.Asked(vm.desired, vm.lifetime, config.stopGracePeriod()),
                    new VmFacts.Seen(vm.observation, vm.history, vm.addresses, readable, Optional.empty()),
                    new VmFacts.Allowed(vm.admission, vm.image, vm.imageInUseBy, vm.inspection, vm.disk,
                            Optional.empty(), Duration.ZERO),
                    new VmFacts.Target(vm.domainName, vm.rendered, vm.nameTakenBy, vm.blades,
                            VmFacts.Placement.NONE, VmFacts.Move.NONE),
                    now));
        }
        return new UserFacts(entry, dir, readable, read, vms, quota, rests, List.copyOf(templates.names()),
                ObservationPlanner.strandedAt(drafts.values().stream().map(vm -> vm.observation).toList(),
                        config.bladeDown(), fleet::strandedAt, now), away.keySet(), now, domains.size());
    }

    /** The admin's bladeDown as the planner reads it, at {@code now}. */
    ObservationPlanner.BladeDown bladeDown(Instant now) {
        ControllerConfig.BladeDown policy = config().bladeDown();
        return policy.restartElsewhere() ? new ObservationPlanner.BladeDown(true, b -> fleet.downFor(b, now, policy.after()))
                : ObservationPlanner.BladeDown.keep(!config().lockManager().equals("none"));
    }

    /**
     * Checks the images of admitted VMs (afresh before a start), which VM an
     * image already serves, and what is known of its inside; tells
     * {@code rests} what the verdicts rest on (see
     * {@link ImageChecker.Session#dependencies}; of a running VM's disk, only
     * which file it is).
     */
    private void checkImages(Owner owner, Map<String, Draft> vms, UserMemory memory, QuietUser.Builder rests) {
        List<Draft> admitted = vms.values().stream()
                .filter(vm -> vm.desired instanceof Desired.Valid && vm.admission.admitted())
                .sorted(Comparator.comparing((Draft vm) -> claim(vm, ""), ImagePlanner.CLAIM_ORDER))
                .toList();
        if (admitted.isEmpty()) {
            return;
        }
        try (ImageChecker.Session session = images.open(owner.user(), owner.fileUid(), memory.images)) {
            for (Draft vm : admitted) {
                Desired.Valid valid = (Desired.Valid) vm.desired;
                boolean active = vm.domain() != null && vm.domain().isActive();
                boolean starting = VmPlanner.aboutToStart(valid.vm().runStrategy(), vm.domain(), vm.history);
                vm.image = session.check(valid.vm().image(), templates.get(valid.template()).orElseThrow().diskFormat(),
                        active, starting);
            }
            Map<String, String> inUseBy = ImagePlanner.sharedWith(admitted.stream().filter(vm -> vm.image.accepted())
                    .map(vm -> claim(vm, vm.image.identity())).toList());
            for (Draft vm : admitted) {
                if (vm.image.accepted()) {
                    vm.imageInUseBy = inUseBy.get(vm.name);
                    if (vm.imageInUseBy == null) {
                        Desired.Valid valid = (Desired.Valid) vm.desired;
                        vm.inspection = inspections.known(owner.user(), valid.vm().image(), vm.image.version(),
                                templates.get(valid.template()).orElseThrow().diskFormat());
                    }
                }
            }
            rests.files(session.dependencies(), session.inUse());
        }
    }

    /** What is known of each VM so far, as values for the readers of its guest and disk. */
    private static List<VmSoFar> soFar(Map<String, Draft> vms,
                                       Function<Draft, Optional<ControllerConfig.Course>> courseOf) {
        return vms.values().stream().map(vm -> new VmSoFar(vm.name, vm.key, vm.desired, vm.domain(), vm.admission,
                vm.image, courseOf.apply(vm))).toList();
    }

    private static ImagePlanner.Claim claim(Draft vm, String identity) {
        return new ImagePlanner.Claim(vm.name, identity, vm.domain() != null, vm.spec.age());
    }

    /** Names and renders each VM that can be made; a new VM's name and MACs avoid those the fleet has in use. */
    private void render(Owner owner, Map<String, Draft> vms, UserMemory memory) {
        for (Draft vm : vms.values()) {
            ObservedDomain domain = vm.domain();
            String uuid = domain != null ? domain.uuid() : DomainIdentity.uuidFor(owner.user(), owner.uid(), vm.name);
            vm.domainName = NamingPlanner.domainName(Optional.ofNullable(domain).map(ObservedDomain::name),
                    owner.user(), vm.name, name -> fleet.nameTakenByManaged(name, uuid));
            if (!vm.usable()) {
                continue;
            }
            Desired.Valid valid = (Desired.Valid) vm.desired;
            Template template = templates.get(valid.template()).orElseThrow();
            List<String> macs = NamingPlanner.macs(domain != null ? domain.config().macs() : List.of(), template.nics(),
                    mac -> fleet.macInUse(mac, uuid, vm.key), owner.user(), owner.uid(), vm.name);
            vm.rendered = memory.renders.render(vm.name, new DomainRenderer.Input(template, owner.user(), owner.uid(),
                    new DomainRenderer.RunAs(owner.fileUid(), owner.fileGid()), vm.name,
                    new DomainIdentity(vm.domainName, uuid, macs), valid.vcpus(), valid.memoryBytes(),
                    vm.image.path(), valid.specHash(), valid.vm().description(), new DomainRenderer.Disks(
                    vm.image.backing(), vm.disk.base().flatMap(DiskFacts.Base::stamp),
                    vm.disk.seed().map(DiskFacts.Seed::path))));
            if (PlacementPlanner.isNew(vm.observation)) {
                vm.nameTakenBy = fleet.nameTakenBy(vm.domainName, uuid);
            }
        }
    }

    /**
     * What the blades' state says of placing each VM that may need room: the
     * blades that do not answer and the unlisted ones, the startup grace, and
     * the blade it was last on (known only while a blade is away).
     */
    private void bladesFor(Map<String, Draft> vms, Map<String, VmStatus> last, List<String> unreachable) {
        if (unreachable.isEmpty()) {
            return;  // every VM's stays ALL_UP
        }
        List<String> unlisted = fleet.unlisted();
        boolean grace = clock.instant().isBefore(startupGraceEnds);
        for (Draft vm : vms.values()) {
            if (PlacementPlanner.mayNeedRoom(vm.usable(), vm.observation, vm.nameTakenBy.isPresent())) {
                vm.blades = new VmFacts.Blades(unreachable, unlisted, grace,
                        Optional.ofNullable(last.get(vm.name)).map(VmStatus::blade));
            }
        }
    }

    /** The VMs some blade shows a domain of, or is in conflict about. */
    private static Set<String> seen(Map<String, Draft> drafts) {
        Set<String> seen = new TreeSet<>();
        drafts.forEach((name, vm) -> {
            if (!(vm.observation instanceof Observation.None)) {
                seen.add(name);
            }
        });
        return seen;
    }

    private static AdmissionPlanner.Vm quotaView(Draft vm, Function<Draft, Optional<ControllerConfig.Course>> courseOf,
                                          Map<String, List<ObservedDomain>> domains) {
        boolean wantsToRun = vm.desired instanceof Desired.Valid valid
                && VmPlanner.wantsToRun(valid.vm().runStrategy(), vm.domain(), vm.history);
        return new AdmissionPlanner.Vm(vm.name, vm.desired, vm.spec == null ? Long.MIN_VALUE : vm.spec.age(), wantsToRun,
                courseOf.apply(vm), domains.getOrDefault(vm.name, List.of()));
    }

}
