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
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Expiry;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.image.Inspections;
import org.ievirsh.placement.Placement;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.quota.Admission;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.spec.CourseFit;
import org.ievirsh.spec.ExpiryFit;
import org.ievirsh.spec.SpecEntry;
import org.ievirsh.spec.SpecReader;
import org.ievirsh.spec.TemplateFit;
import org.ievirsh.spec.UserFiles;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusFiles;
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
 * them, quota, images (and what is known of their inside), renderings,
 * placement of new VMs and the deletion guard; and hands it over as
 * immutable {@link VmFacts}. Where gathering itself depends on a decision
 * (is this one domain or a conflict, may a new VM be placed now), it asks
 * {@link VmPlanner}. Reservations of room on a blade, the only thing it
 * changes, are the fleet's bookkeeping: no libvirt call is made here.
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
    private final DeletionGuard guard;
    private final Clock clock;
    private final Clock files;
    private final GuestFacts guest;
    private final DrainFacts drain;
    private final DiskGathering disks;
    private final Instant startupGraceEnds;

    /** {@code files}: the clock the file system stamps files with (a stat settles by it). */
    Gatherer(java.util.function.Supplier<ControllerConfig> settings, UserDirectories directories, TemplateLibrary templates, ImageChecker images,
             Inspections inspections, Fleet fleet, StatusBook book, DeletionGuard guard, Clock clock, Clock files,
             GuestFacts guest, DrainFacts drain, DiskGathering disks) {
        this.settings = settings;
        this.disks = disks;
        ControllerConfig config = settings.get();
        this.guest = guest;
        this.drain = drain;
        this.directories = directories;
        this.templates = templates;
        this.images = images;
        this.inspections = inspections;
        this.fleet = fleet;
        this.book = book;
        this.guard = guard;
        this.clock = clock;
        this.files = files;
        Duration grace = config.resync().multipliedBy(2);
        this.startupGraceEnds = clock.instant().plus(grace.compareTo(Duration.ofSeconds(5)) < 0
                ? Duration.ofSeconds(5) : grace);
    }

    /** One VM's facts in the making; only the gatherer sees it. */
    static final class Draft {
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
        VmFacts.Placement placement = VmFacts.Placement.NONE;
        Optional<String> deletionBlocked = Optional.empty();
        Duration deletionRetry = Duration.ZERO;
        List<VmStatus.Address> addresses = List.of();
        VmFacts.Lifetime lifetime = VmFacts.Lifetime.FOREVER;
        VmFacts.Move move = VmFacts.Move.NONE;
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

    /** Gathers the facts of the student of {@code entry}; the result holds their directory open. */
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
            vm.observation = VmPlanner.observe(name, owner.uid(), byVm.getOrDefault(name, List.of()), fleet::bladeUp,
                    bladeDown(now));
            vm.history = memory.histories.getOrDefault(name, VmHistory.NEW).observe(vm.domain(), now);
            memory.histories.put(name, vm.history);
            vm.spec = read.vms().get(name);
            vm.desired = vm.spec == null ? (readable ? new Desired.Absent() : unreadable(name))
                    : desiredOf(vm.spec, adminEnd, owner, vm.domain() != null);
            vm.observation = VmPlanner.strandedIfItShouldRun(vm.observation, vm.desired, vm.history);
        }
        memory.keepOnly(drafts.keySet());
        QuotaLimits quota = QuotaLimits.resolve(config.quota(), owner.user(), owner.groups());
        Function<Draft, Optional<ControllerConfig.Course>> courseOf = vm -> vm.desired instanceof Desired.Valid valid
                ? CourseFit.countsIn(valid.vm(), config.courses(), owner.groups()) : Optional.empty();
        Function<Optional<ControllerConfig.Course>, QuotaLimits> limitsOf = course -> course
                .map(c -> QuotaLimits.ofCourse(config.quota(), c.quota())).orElse(quota);
        Map<String, VmStatus> away = away(user, drafts, dir);
        admit(drafts, byVm, away, courseOf, limitsOf);
        checkImages(owner, drafts, memory, rests);
        disks.gather(owner, drafts, dir, courseOf, limitsOf, rests);
        render(owner, drafts, dir, memory);
        guest.gather(owner, drafts, courseOf);
        drain.gather(drafts);
        guardRemovals(drafts, readable, domains.size(), now);

        VmStatus.Owner statusOwner = new VmStatus.Owner(user, owner.uid());
        SortedMap<String, VmFacts> vms = new TreeMap<>();
        for (Draft vm : drafts.values()) {
            vms.put(vm.name, new VmFacts(vm.name, statusOwner,
                    new VmFacts.Asked(vm.desired, vm.lifetime, config.stopGracePeriod()),
                    new VmFacts.Seen(vm.observation, vm.history, vm.addresses, readable, Optional.empty()),
                    new VmFacts.Allowed(vm.admission, vm.image, vm.imageInUseBy, vm.inspection, vm.disk,
                            vm.deletionBlocked, vm.deletionRetry),
                    new VmFacts.Target(vm.domainName, vm.rendered, vm.nameTakenBy, vm.blades, vm.placement, vm.move),
                    now));
        }
        return new UserFacts(entry, dir, readable, read, vms, quota, rests, List.copyOf(templates.names()),
                strandedAt(drafts.values(), now), away.keySet(), now);
    }

    /**
     * With {@code bladeDown: restartElsewhere}, the first moment a VM of
     * this student whose blade is unreachable becomes stranded: the pass is
     * made again then, whatever else changes. Only moments still to come: a
     * VM past it that stays where it is (one that should not run) waits for
     * its blade, not for the clock.
     */
    private Optional<Instant> strandedAt(java.util.Collection<Draft> drafts, Instant now) {
        ControllerConfig.BladeDown policy = config().bladeDown();
        Optional<Instant> first = Optional.empty();
        if (!policy.restartElsewhere()) {
            return first;
        }
        for (Draft vm : drafts) {
            if (vm.observation instanceof Observation.Found found && !found.bladeUp()) {
                Optional<Instant> at = fleet.strandedAt(found.domain().blade(), policy.after()).filter(now::isBefore);
                if (at.isPresent() && (first.isEmpty() || at.get().isBefore(first.get()))) {
                    first = at;
                }
            }
        }
        return first;
    }

    /** The admin's bladeDown as the planner reads it, at {@code now}. */
    VmPlanner.BladeDown bladeDown(Instant now) {
        ControllerConfig.BladeDown policy = config().bladeDown();
        return policy.restartElsewhere() ? new VmPlanner.BladeDown(true, b -> fleet.downFor(b, now, policy.after()))
                : VmPlanner.BladeDown.keep(!config().lockManager().equals("none"));
    }

    private static Desired unreadable(String name) {
        return new Desired.Invalid(List.of(Problem.ofFile(name + ".yaml",
                "the directory cannot be read now; the VM is left as it is")), Optional.empty(), "template");
    }

    /**
     * Desired state of a file: valid only if its template exists and it
     * stays within the template, its course is one of the student's (or it
     * exists already: {@code hasDomain}) and it ends no later than the
     * admin's date (the course's, for a course VM).
     */
    private Desired desiredOf(SpecEntry spec, Optional<Expiry> adminEnd, Owner owner, boolean hasDomain) {
        if (!spec.isValid()) {
            return new Desired.Invalid(spec.problems(), spec.specHash(),
                    spec.errorReason().isEmpty() ? "template" : spec.errorReason());
        }
        Parsed<TemplateFit.Fitted> fitted = new TemplateFit(templates, config().defaultTemplate()).fit(spec.file().get());
        if (!fitted.isOk()) {
            return new Desired.Invalid(fitted.problems(), Optional.of(spec.file().get().specHash()), "template");
        }
        Map<String, ControllerConfig.Course> courses = config().courses();
        Optional<Problem> course = CourseFit.check(spec.file().get(), courses, owner.groups(), hasDomain);
        if (course.isPresent()) {
            return new Desired.Invalid(List.of(course.get()), Optional.of(spec.file().get().specHash()), "course");
        }
        Optional<Expiry> end = CourseFit.countsIn(spec.file().get().vm(), courses, owner.groups())
                .map(c -> Expiry.earliest(c.expires(), adminEnd, clock.getZone())).orElse(adminEnd);
        Optional<Problem> late = ExpiryFit.check(spec.file().get(), end, clock.getZone());
        if (late.isPresent()) {
            return new Desired.Invalid(List.of(late.get()), Optional.of(spec.file().get().specHash()), "schema");
        }
        TemplateFit.Fitted f = fitted.orThrow();
        return new Desired.Valid(spec.file().get().vm(), spec.file().get().specHash(), f.template().name(), f.vcpus(),
                f.memoryBytes());
    }

    /**
     * The statuses of this student's VMs whose domain no blade shows, but
     * which name a blade that does not answer (or was not listed yet) in a
     * phase that may run there: without them, a new leader that has not seen
     * that blade would start one VM more than {@code runningVms} allows
     * (found by bench chaos). A student's own status file can only make
     * their quota tighter here. Read only while a blade is away.
     */
    private Map<String, VmStatus> away(String user, Map<String, Draft> drafts, SafeDir dir) {
        List<String> unreachable = fleet.unreachable();
        if (unreachable.isEmpty() || dir == null) {
            return Map.of();
        }
        Map<String, VmStatus> away = new TreeMap<>();
        Map<String, VmStatus> written = book.ofUser(user);
        try (SafeDir status = dir.openDir(StatusFiles.DIRECTORY)) {
            for (SafeDir.Entry e : status.list()) {
                String file = e.name();
                String vm = file.endsWith(".yaml") ? file.substring(0, file.length() - ".yaml".length()) : "";
                Draft draft = drafts.get(vm);
                if (!e.type().equals(FileStat.Type.REGULAR) || !VirtualMachine.isValidName(vm)
                        || draft != null && !(draft.observation instanceof Observation.None)) {
                    continue;
                }
                VmStatus last = written.get(vm);
                if (last == null) {
                    last = status.read(file, 64 * 1024).map(SafeDir.Contents::bytes)
                            .flatMap(bytes -> StatusFiles.fromYaml(file, bytes)).orElse(null);
                }
                if (last != null && last.blade() != null && unreachable.contains(last.blade())
                        && MAY_RUN_THERE.contains(last.phase())) {
                    away.put(vm, last);
                }
            }
        } catch (PosixException | RuntimeException e) {
            LOG.fine(() -> "cannot read the statuses of " + user + ": " + e.getMessage());
        }
        return away;
    }

    /** The phases of a status that leave its VM possibly running on its blade. */
    private static final Set<Phase> MAY_RUN_THERE = java.util.EnumSet.of(Phase.Pending, Phase.Starting, Phase.Running,
            Phase.Stopping, Phase.Unknown, Phase.Terminating, Phase.Error, Phase.CrashLoopBackOff);

    /**
     * Admits each VM against its quota: a course VM against its course's
     * (while its student is in the course's group), the others against the
     * student's own. A VM runs for the quota while any of its domains is
     * active (also one on two blades, or beside a stale copy); a VM {@code
     * away} (its blade does not answer) holds its place and a running slot.
     */
    private void admit(Map<String, Draft> vms, Map<String, List<ObservedDomain>> domains,
                       Map<String, VmStatus> away, Function<Draft, Optional<ControllerConfig.Course>> courseOf,
                       Function<Optional<ControllerConfig.Course>, QuotaLimits> limitsOf) {
        Map<Optional<ControllerConfig.Course>, List<Admission.Candidate>> buckets = new HashMap<>();
        for (Draft vm : vms.values()) {
            boolean isAway = away.containsKey(vm.name);
            List<ObservedDomain> seen = domains.getOrDefault(vm.name, List.of());
            boolean active = isAway || seen.stream().anyMatch(ObservedDomain::isActive);
            if (vm.desired instanceof Desired.Valid valid) {
                buckets.computeIfAbsent(courseOf.apply(vm), c -> new ArrayList<>()).add(new Admission.Candidate(vm.name, valid.vcpus(), valid.memoryBytes(), vm.spec.age(),
                        !seen.isEmpty() || isAway, VmPlanner.wantsToRun(valid.vm().runStrategy(), vm.domain(), vm.history),
                        active));
            } else if (!seen.isEmpty()) {
                // A domain whose file is gone (its removal may wait) or broken (it is left as it is) still holds
                // its place, and runs while it runs: without it, breaking or removing a file would make room for
                // one VM more than the quota allows.
                ObservedDomain first = seen.get(0);
                buckets.computeIfAbsent(Optional.empty(), c -> new ArrayList<>()).add(new Admission.Candidate(
                        vm.name, first.config().vcpus(), first.config().memoryBytes(), Long.MIN_VALUE, true, false,
                        active));
            }
        }
        away.forEach((name, last) -> {
            Draft vm = vms.get(name);
            if ((vm == null || !(vm.desired instanceof Desired.Valid)) && !domains.containsKey(name)) {
                buckets.computeIfAbsent(Optional.empty(), c -> new ArrayList<>()).add(new Admission.Candidate(name,
                        last.vcpus() == null ? 0 : last.vcpus(), memoryOf(last), Long.MIN_VALUE, true, false, true));
            }
        });
        buckets.forEach((course, candidates) -> Admission.decide(candidates, limitsOf.apply(course))
                .forEach((name, verdict) -> {
                    if (vms.get(name) != null && vms.get(name).desired instanceof Desired.Valid) {  // the others: counted
                        vms.get(name).admission = verdict.in(course.map(ControllerConfig.Course::name));
                    }
                }));
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
                .sorted(Comparator.comparing((Draft vm) -> vm.domain() == null).thenComparingLong(vm -> vm.spec.age())
                        .thenComparing(vm -> vm.name))
                .toList();
        if (admitted.isEmpty()) {
            return;
        }
        Map<String, String> disks = new HashMap<>();
        try (ImageChecker.Session session = images.open(owner.user(), owner.fileUid(), memory.images)) {
            for (Draft vm : admitted) {
                Desired.Valid valid = (Desired.Valid) vm.desired;
                Template template = templates.get(valid.template()).orElseThrow();
                boolean active = vm.domain() != null && vm.domain().isActive();
                boolean starting = VmPlanner.aboutToStart(valid.vm().runStrategy(), vm.domain(), vm.history);
                vm.image = session.check(valid.vm().image(), template.diskFormat(), active, starting);
                if (vm.image.accepted()) {
                    String other = disks.putIfAbsent(vm.image.identity(), vm.name);
                    vm.imageInUseBy = other;
                    if (other == null) {
                        vm.inspection = inspections.known(owner.user(), valid.vm().image(), vm.image.version(),
                                template.diskFormat());
                    }
                }
            }
            rests.files(session.dependencies(), session.inUse());
        }
    }

    private void render(Owner owner, Map<String, Draft> vms, SafeDir dir, UserMemory memory) {
        for (Draft vm : vms.values()) {
            ObservedDomain domain = vm.domain();
            String uuid = domain != null ? domain.uuid() : DomainIdentity.uuidFor(owner.user(), owner.uid(), vm.name);
            // An existing domain keeps its name; a new one takes the fallback name if another student's has its own.
            vm.domainName = domain != null ? domain.name() : DomainIdentity.domainName(owner.user(), vm.name);
            if (domain == null && fleet.nameTakenByManaged(vm.domainName, uuid)) {
                vm.domainName = DomainIdentity.fallbackName(owner.user(), vm.name);
            }
            if (!vm.usable()) {
                fleet.release(vm.key);
                continue;
            }
            Desired.Valid valid = (Desired.Valid) vm.desired;
            Template template = templates.get(valid.template()).orElseThrow();
            List<String> macs = domain != null && domain.config().macs().size() == template.nics()
                    && domain.config().macs().stream().noneMatch(m -> fleet.macInUse(m, uuid, vm.key))
                    ? domain.config().macs()
                    : DomainIdentity.macsFor(owner.user(), owner.uid(), vm.name, template.nics(),
                            mac -> fleet.macInUse(mac, uuid, vm.key));
            vm.rendered = memory.renders.render(vm.name, new DomainRenderer.Input(template, owner.user(), owner.uid(),
                    new DomainRenderer.RunAs(owner.fileUid(), owner.fileGid()), vm.name,
                    new DomainIdentity(vm.domainName, uuid, macs), valid.vcpus(), valid.memoryBytes(),
                    vm.image.path(), valid.specHash(), valid.vm().description(), new DomainRenderer.Disks(
                    vm.image.backing(), vm.disk.base().flatMap(DiskFacts.Base::stamp),
                    vm.disk.seed().map(DiskFacts.Seed::path))));
            if (domain != null || vm.observation instanceof Observation.Conflict) {
                fleet.release(vm.key);
                continue;
            }
            vm.nameTakenBy = fleet.nameTakenBy(vm.domainName, uuid);
            if (vm.nameTakenBy.isPresent()) {
                fleet.release(vm.key);
                continue;
            }
            vm.blades = bladesFor(vm, dir);
            // A VM stranded on a dead blade (restartElsewhere) is placed elsewhere; any other waits for its blade.
            Optional<String> hold = vm.observation instanceof Observation.Stranded ? Optional.empty()
                    : VmPlanner.hold(vm.blades);
            if (hold.isPresent()) {
                fleet.release(vm.key);
                vm.placement = VmFacts.Placement.waiting(hold.get());
                continue;
            }
            Placement.Choice choice = fleet.place(vm.key, valid.vcpus(), valid.memoryBytes(), macs);
            vm.placement = choice.blade().map(VmFacts.Placement::on)
                    .orElseGet(() -> VmFacts.Placement.unschedulable(choice.reason()));
        }
    }

    /** What the blades' state says of placing this VM; the last blade is read only when a blade is away. */
    private VmFacts.Blades bladesFor(Draft vm, SafeDir dir) {
        List<String> unreachable = fleet.unreachable();
        if (unreachable.isEmpty()) {
            return VmFacts.Blades.ALL_UP;
        }
        return new VmFacts.Blades(unreachable, fleet.unlisted(), clock.instant().isBefore(startupGraceEnds),
                lastKnownBlade(vm.key.substring(0, vm.key.indexOf('/')), vm.name, dir));
    }

    private static long memoryOf(VmStatus status) {
        try {
            return status.memory() == null ? 0 : org.ievirsh.api.v1.Quantities.parseBytes(status.memory());
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The blade the VM's status last named: the controller's own record, else the status file, if it reads. */
    private Optional<String> lastKnownBlade(String user, String vm, SafeDir dir) {
        VmStatus known = book.ofUser(user).get(vm);
        if (known != null && known.blade() != null) {
            return Optional.of(known.blade());
        }
        if (dir == null) {
            return Optional.empty();
        }
        try (SafeDir status = dir.openDir(StatusFiles.DIRECTORY)) {
            return status.read(StatusFiles.yamlName(vm), 64 * 1024).map(SafeDir.Contents::bytes)
                    .flatMap(bytes -> StatusFiles.fromYaml(vm + ".yaml", bytes)).map(VmStatus::blade);
        } catch (PosixException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private void guardRemovals(Map<String, Draft> vms, boolean readable, int userVms, Instant now) {
        for (Draft vm : vms.values()) {
            boolean removal = readable && vm.desired instanceof Desired.Absent && vm.domain() != null;
            if (!removal) {
                guard.resolved(vm.key);
                continue;
            }
            DeletionGuard.Decision decision = guard.ask(vm.key, userVms, now);
            vm.deletionBlocked = decision.heldBecause();
            vm.deletionRetry = decision.askAgainIn();
        }
    }
}
