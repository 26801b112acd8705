package org.ievirsh.reconcile;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.ImageChecker;
import org.ievirsh.image.ImageVerdict;
import org.ievirsh.image.Inspection;
import org.ievirsh.image.Inspections;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.placement.Placement;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.quota.Admission;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.spec.SpecEntry;
import org.ievirsh.spec.SpecReader;
import org.ievirsh.spec.TemplateFit;
import org.ievirsh.spec.UserFiles;
import org.ievirsh.status.Reasons;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusFiles;
import org.ievirsh.status.StatusWriter;
import org.ievirsh.status.VmStatus;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.template.DomainRenderer;
import org.ievirsh.template.RenderCache;
import org.ievirsh.template.RenderedDomain;
import org.ievirsh.template.Template;
import org.ievirsh.template.TemplateLibrary;
import org.ievirsh.users.Owner;
import org.ievirsh.users.UserDirectories;
import org.ievirsh.users.UserIndex;

/**
 * UserReconciler brings one student's VMs in line with their files. It reads
 * everything afresh each time (the directory, the blades' views), works out
 * the facts of each VM (validity, quota, image, placement, rendering), asks
 * {@link VmPlanner} what to do, has the {@link Executor} do it, and writes
 * the statuses. A user is the unit of work because quota and image checks
 * span all of a user's VMs.
 */
public final class UserReconciler {
    private static final Logger LOG = Logger.getLogger(UserReconciler.class.getName());
    private static final int MAX_ROUNDS = 3;

    private final ControllerConfig config;
    private final UserIndex index;
    private final UserDirectories directories;
    private final SpecReader specs = new SpecReader();
    private final TemplateLibrary templates;
    private final TemplateFit fit;
    private final ImageChecker images;
    private final Inspections inspections;
    private final Consumer<String> wake;
    private final Fleet fleet;
    private final Executor executor;
    private final StatusWriter statusWriter;
    private final StatusBook book;
    private final DeletionGuard guard;
    private final Metrics metrics;
    private final PerVmCollector perVm;
    private final Clock clock;
    /** What is remembered of each VM, per user: a user's reconcile touches only its own entries. */
    private final Map<String, Map<String, VmHistory>> histories = new ConcurrentHashMap<>();
    private final RenderCache renders = new RenderCache();
    private final Map<String, Map<String, Instant>> startWantedSince = new ConcurrentHashMap<>();
    /** The fingerprint of each user's last pass that ended clean. */
    private final Map<String, List<Object>> clean = new ConcurrentHashMap<>();
    /** What each user's last clean pass rested on, where a few stats can tell that it still holds. */
    private final Map<String, QuietUser> quiet = new ConcurrentHashMap<>();
    private final Set<String> statusProblemsLogged = ConcurrentHashMap.newKeySet();
    private final Instant startupGraceEnds;

    public UserReconciler(ControllerConfig config, UserIndex index, UserDirectories directories,
                          TemplateLibrary templates, ImageChecker images, Inspections inspections,
                          Consumer<String> wake, Fleet fleet, StatusWriter statusWriter,
                          StatusBook book, DeletionGuard guard, Metrics metrics, PerVmCollector perVm,
                          Clock clock) {
        this.config = config;
        this.index = index;
        this.directories = directories;
        this.templates = templates;
        this.fit = new TemplateFit(templates, config.defaultTemplate());
        this.images = images;
        this.inspections = inspections;
        this.wake = wake;
        this.fleet = fleet;
        this.executor = new Executor(fleet);
        this.statusWriter = statusWriter;
        this.book = book;
        this.guard = guard;
        this.metrics = metrics;
        this.perVm = perVm;
        this.clock = clock;
        Duration grace = config.resync().multipliedBy(2);
        this.startupGraceEnds = clock.instant().plus(grace.compareTo(Duration.ofSeconds(5)) < 0
                ? Duration.ofSeconds(5) : grace);
    }

    /** One VM's facts in the making. */
    private static final class Vm {
        final String user;
        final String name;
        final String key;
        Desired desired;
        SpecEntry spec;
        Observation observation = new Observation.None();
        ObservedDomain domain;
        VmHistory history;
        Admission.Verdict admission;
        ImageVerdict image;
        Inspection inspection;
        RenderedDomain rendered;
        Template template;
        VmFacts.Placement placement = VmFacts.Placement.waiting("not placed yet");
        Optional<String> deletionBlocked = Optional.empty();
        Duration deletionRetry = Duration.ZERO;
        int calls;

        Vm(String user, String name) {
            this.user = user;
            this.name = name;
            this.key = user + "/" + name;
        }
    }

    public Result reconcile(String user) {
        Optional<UserIndex.Entry> found = index.get(user);
        if (found.isEmpty()) {
            book.removeUser(user);
            metrics.forgetUser(user);
            return Result.done();
        }
        UserIndex.Entry entry = found.get();
        long templatesSeen = templates.generation();
        long inspectionsSeen = inspections.generation();
        QuietUser lastClean = quiet.get(user);
        if (lastClean != null) {
            // The usual resync of the usual student: nothing changed, a dozen stats tell it.
            if (lastClean.holds(entry, fleet, templatesSeen, inspectionsSeen)) {
                return Result.done();
            }
            quiet.remove(user);
        }
        QuietUser.Builder rests = new QuietUser.Builder(entry, System.currentTimeMillis() * 1_000_000L,
                templatesSeen, inspectionsSeen);
        Owner owner = entry.owner();
        Instant now = clock.instant();
        VmStatus.Owner statusOwner = new VmStatus.Owner(owner.user(), owner.uid());

        SafeDir dir = null;
        UserFiles files = UserFiles.NONE;
        boolean readable = false;
        try {
            dir = directories.open(entry.directory());
            FileStat stat = dir.stat();
            rests.file(entry.directory(), Optional.of(stat));
            if (stat.uid() == entry.dirUid()) {
                Set<String> withDomains = new HashSet<>();
                fleet.domainsOf(user).forEach(d -> withDomains.add(d.config().vm()));
                files = specs.read(dir, owner.fileUid(), entry.directory().toString(), config.users().maxFiles(),
                        withDomains);
                readable = true;
            } else {
                LOG.warning(entry.directory() + " changed owner; left alone until the next discovery");
            }
        } catch (PosixException e) {
            LOG.fine(() -> "cannot read " + entry.directory() + ": " + e.getMessage());
        }
        try {
            return reconcile(user, owner, statusOwner, entry, dir, readable, files, now, rests);
        } finally {
            if (dir != null) {
                dir.close();
            }
        }
    }

    private Result reconcile(String user, Owner owner, VmStatus.Owner statusOwner, UserIndex.Entry entry,
                             SafeDir dir, boolean readable, UserFiles files, Instant now, QuietUser.Builder rests) {
        Map<String, Vm> vms = new HashMap<>();
        Map<String, List<ObservedDomain>> domainsByVm = new HashMap<>();
        List<ObservedDomain> domains = fleet.domainsOf(user);
        boolean[] bladesUp = new boolean[domains.size()];
        for (int i = 0; i < domains.size(); i++) {
            ObservedDomain d = domains.get(i);
            bladesUp[i] = fleet.bladeUp(d.blade());
            domainsByVm.computeIfAbsent(d.config().vm(), k -> new ArrayList<>()).add(d);
        }
        rests.domains(domains, bladesUp);
        Set<String> names = new TreeSet<>(files.vms().keySet());
        names.addAll(domainsByVm.keySet());
        for (String name : names) {
            Vm vm = new Vm(user, name);
            vms.put(name, vm);
            observe(vm, owner, domainsByVm.getOrDefault(name, List.of()), now);
            SpecEntry spec = files.vms().get(name);
            vm.spec = spec;
            vm.desired = spec == null ? (readable ? new Desired.Absent() : invalidUnreadable(name))
                    : desiredOf(spec);
        }

        admit(owner, vms);
        rests.files(checkImages(owner, vms));
        render(owner, vms, dir, now);
        guardRemovals(vms, readable, now);

        // Nothing changed since a pass that ended clean (no call to make, nothing to wait for, every
        // status written): the plans and statuses would be the same. This is what keeps a resync over
        // ten thousand students cheap.
        List<Object> fingerprint = fingerprint(vms, statusOwner, owner, readable, dir);
        if (fingerprint.equals(clean.get(user))) {
            restsOn(rests, vms, files, entry, readable ? dir : null).build().ifPresent(q -> quiet.put(user, q));
            return Result.done();
        }
        clean.remove(user);

        Map<String, VmStatus> statuses = new HashMap<>();
        Map<String, Optional<RenderedDomain>> definedXml = new HashMap<>();
        Set<String> removedStatus = new HashSet<>();
        Duration requeue = null;
        String error = null;
        for (Vm vm : vms.values()) {
            Outcome outcome = converge(vm, statusOwner, owner, readable, now);
            if (outcome.plan().status().isPresent()) {
                statuses.put(vm.name, outcome.plan().status().get());
                definedXml.put(vm.name, outcome.plan().definedXml());
            } else {
                removedStatus.add(vm.name);
            }
            if (outcome.error() != null) {
                error = error == null ? outcome.error() : error;
            }
            Optional<Duration> again = outcome.plan().requeueAfter();
            if (vm.deletionBlocked.isPresent() && vm.desired instanceof Desired.Absent) {
                again = Optional.of(vm.deletionRetry);
            }
            if (again.isPresent() && (requeue == null || again.get().compareTo(requeue) < 0)) {
                requeue = again.get();
            }
        }
        historiesOf(user).keySet().retainAll(vms.keySet());
        startsOf(user).keySet().retainAll(vms.keySet());

        boolean allWritten = readable && dir != null;
        Map<String, VmStatus> written = writeStatuses(entry, owner, dir, readable, statuses, definedXml,
                removedStatus);
        for (Vm vm : vms.values()) {
            if (vm.rendered != null) {
                vm.rendered.forgetText();
            }
        }
        allWritten &= written != statuses;
        book.putUser(user, written);
        reportMetrics(user, vms);
        if (error != null) {
            return Result.error(error);
        }
        if (requeue == null && allWritten && vms.values().stream().noneMatch(vm -> vm.calls > 0)) {
            clean.put(user, fingerprint(vms, statusOwner, owner, readable, dir));
            restsOn(rests, vms, files, entry, readable ? dir : null).build().ifPresent(q -> quiet.put(user, q));
        }
        return requeue == null ? Result.done() : Result.requeueAfter(requeue);
    }

    /**
     * What a pass over one user depends on, but the clock: every VM's facts
     * and the state of its {@code .status} directory (a student who removes a
     * status file gets it back).
     */
    private List<Object> fingerprint(Map<String, Vm> vms, VmStatus.Owner statusOwner, Owner owner, boolean readable,
                                     SafeDir dir) {
        List<Object> parts = new ArrayList<>();
        for (String name : new TreeSet<>(vms.keySet())) {
            parts.add(facts(vms.get(name), statusOwner, owner, readable, Instant.EPOCH));
        }
        String statusDir = "none";
        if (dir != null) {
            try {
                statusDir = dir.stat(StatusFiles.DIRECTORY).map(FileStat::version).orElse("absent");
            } catch (PosixException e) {
                statusDir = "unreadable";
            }
        }
        parts.add(statusDir);
        parts.add(templates.names());
        return parts;
    }

    /**
     * Completes what a clean pass rested on: its VM files and its .status; untold when the directory could not
     * be read or a VM waits for a blade.
     */
    private static QuietUser.Builder restsOn(QuietUser.Builder rests, Map<String, Vm> vms, UserFiles files,
                                             UserIndex.Entry entry, SafeDir dir) {
        if (dir == null) {
            return rests.untold();
        }
        for (Vm vm : vms.values()) {
            if (vm.domain == null && vm.rendered != null) {
                // Waiting for a blade, or taken by a conflict: that hangs on other students and on time.
                return rests.untold();
            }
        }
        for (SpecEntry spec : files.vms().values()) {
            if (!spec.errorReason().equals("duplicate")) {
                FileStat stat = files.stats().get(spec.fileName());
                rests.file(entry.directory().resolve(spec.fileName()), stat == null ? null : Optional.of(stat));
            }
        }
        try {
            rests.file(entry.directory().resolve(StatusFiles.DIRECTORY), dir.stat(StatusFiles.DIRECTORY));
        } catch (PosixException e) {
            rests.untold();
        }
        return rests;
    }

    private static Desired invalidUnreadable(String name) {
        return new Desired.Invalid(List.of(Problem.ofFile(name + ".yaml",
                "the directory cannot be read now; the VM is left as it is")), Optional.empty());
    }

    private void observe(Vm vm, Owner owner, List<ObservedDomain> domains, Instant now) {
        if (domains.size() > 1) {
            vm.observation = new Observation.Conflict("VM " + vm.name + " has a domain on " + domains.size()
                    + " blades (" + String.join(", ", domains.stream().map(ObservedDomain::blade).sorted().toList())
                    + "); it is not touched until an admin removes all but one");
        } else if (domains.size() == 1) {
            ObservedDomain d = domains.get(0);
            if (d.config().uid() != owner.uid()) {
                vm.observation = new Observation.Conflict("domain " + d.name() + " on " + d.blade()
                        + " belongs to uid " + d.config().uid() + ", not to uid " + owner.uid()
                        + "; an admin must decide what to do with it");
            } else {
                Blade blade = fleet.blade(d.blade()).orElseThrow();
                vm.domain = d;
                vm.observation = new Observation.Found(d, blade.view().isUp());
            }
        }
        Map<String, VmHistory> known = historiesOf(vm.user);
        vm.history = known.getOrDefault(vm.name, VmHistory.NEW).observe(vm.domain, now);
        known.put(vm.name, vm.history);
    }

    /** Desired state of a file: valid only if its template exists and it stays within the template. */
    private Desired desiredOf(SpecEntry spec) {
        if (!spec.isValid()) {
            return new Desired.Invalid(spec.problems(), spec.specHash());
        }
        VirtualMachineFile file = spec.file().get();
        Parsed<TemplateFit.Fitted> fitted = fit.fit(file);
        if (!fitted.isOk()) {
            return new Desired.Invalid(fitted.problems(), Optional.of(file.specHash()));
        }
        TemplateFit.Fitted f = fitted.orThrow();
        return new Desired.Valid(file.vm(), file.specHash(), f.template().name(), f.vcpus(), f.memoryBytes());
    }

    private void admit(Owner owner, Map<String, Vm> vms) {
        List<Admission.Candidate> candidates = new ArrayList<>();
        for (Vm vm : vms.values()) {
            if (vm.desired instanceof Desired.Valid valid) {
                candidates.add(new Admission.Candidate(vm.name, valid.vcpus(), valid.memoryBytes(), vm.spec.age(),
                        vm.domain != null || vm.observation instanceof Observation.Conflict,
                        VmPlanner.wantsToRun(valid.vm().runStrategy(), vm.domain, vm.history),
                        vm.domain != null && vm.domain.isActive()));
            }
        }
        QuotaLimits limits = QuotaLimits.resolve(config.quota(), owner.user(), owner.groups());
        perVm.quotaOf(owner.user(), limits);
        Admission.decide(candidates, limits).forEach((name, verdict) -> vms.get(name).admission = verdict);
    }

    /** Checks the images of admitted VMs; returns what the verdicts rest on (see ImageChecker.Session). */
    private Map<java.nio.file.Path, Optional<FileStat>> checkImages(Owner owner, Map<String, Vm> vms) {
        List<Vm> admitted = vms.values().stream()
                .filter(vm -> vm.desired instanceof Desired.Valid && vm.admission.admitted())
                .sorted(Comparator.comparing((Vm vm) -> vm.domain == null).thenComparingLong(vm -> vm.spec.age())
                        .thenComparing(vm -> vm.name))
                .toList();
        Map<String, String> disks = new HashMap<>();
        if (admitted.isEmpty()) {
            return Map.of();
        }
        try (ImageChecker.Session session = images.open(owner.user(), owner.fileUid())) {
            checkImages(owner, admitted, disks, session);
            return session.dependencies();
        }
    }

    private void checkImages(Owner owner, List<Vm> admitted, Map<String, String> disks,
                             ImageChecker.Session session) {
        for (Vm vm : admitted) {
            Desired.Valid valid = (Desired.Valid) vm.desired;
            Template template = templates.get(valid.template()).orElseThrow();
            boolean active = vm.domain != null && vm.domain.isActive();
            // Only an image about to start is looked inside; a running or halted VM keeps what is known.
            boolean starting = !active && VmPlanner.wantsToRun(valid.vm().runStrategy(), vm.domain, vm.history);
            ImageVerdict verdict = session.check(valid.vm().image(), template.diskFormat(), active, starting);
            if (verdict.accepted()) {
                String other = disks.putIfAbsent(verdict.identity(), vm.name);
                if (other != null) {
                    verdict = ImageVerdict.reject(verdict.path(), "ImageInUse", valid.vm().image()
                            + " is already the disk of VM " + other + "; each VM needs an image of its own");
                }
            }
            vm.image = verdict;
            vm.inspection = !verdict.accepted() ? null : inspections.of(vm.user, session.uid(), owner.fileGid(), valid.vm().image(),
                    session.versionOf(valid.vm().image()), template.diskFormat(), !starting,
                    () -> wake.accept(vm.user));
        }
    }

    /**
     * Why a VM without a domain must not be placed yet: a blade that has not
     * been listed may hold it. During the startup grace every unlisted blade
     * holds placements back; after it, only the blade the VM's last status
     * names does (a blade that stays dead must not stop every new VM).
     */
    private Optional<String> placementHold(Vm vm, SafeDir dir, Instant now) {
        List<String> unreachable = fleet.unreachable();
        if (unreachable.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> lastBlade = lastKnownBlade(vm.user, vm.name, dir);
        if (lastBlade.isPresent() && unreachable.contains(lastBlade.get())) {
            return Optional.of("the VM was last on blade " + lastBlade.get() + ", which does not answer now; it is"
                    + " not recreated elsewhere (its disk would be opened twice)");
        }
        List<String> unlisted = fleet.unlisted();
        if (!unlisted.isEmpty() && now.isBefore(startupGraceEnds)) {
            return Optional.of("waiting for blade " + String.join(", ", unlisted)
                    + " to answer: the VM may already exist there");
        }
        return Optional.empty();
    }

    /** The blade the VM's status file last named, if the file is there and reads. */
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

    private void render(Owner owner, Map<String, Vm> vms, SafeDir dir, Instant now) {
        for (Vm vm : vms.values()) {
            if (!(vm.desired instanceof Desired.Valid valid) || !vm.admission.admitted() || !vm.image.accepted()) {
                fleet.release(vm.key);
                continue;
            }
            Template template = templates.get(valid.template()).orElseThrow();
            String domainName = DomainIdentity.domainName(owner.user(), vm.name);
            String uuid = vm.domain != null ? vm.domain.uuid()
                    : DomainIdentity.uuidFor(owner.user(), owner.uid(), vm.name);
            List<String> macs = vm.domain != null && vm.domain.config().macs().size() == template.nics()
                    && vm.domain.config().macs().stream().noneMatch(m -> fleet.macInUse(m, uuid, vm.key))
                    ? vm.domain.config().macs()
                    : DomainIdentity.macsFor(owner.user(), owner.uid(), vm.name, template.nics(),
                            mac -> fleet.macInUse(mac, uuid, vm.key));
            vm.template = template;
            vm.rendered = renders.render(vm.key, new DomainRenderer.Input(template, owner.user(), owner.uid(),
                    new DomainRenderer.RunAs(owner.fileUid(), owner.fileGid()), vm.name, new DomainIdentity(domainName, uuid, macs), valid.vcpus(), valid.memoryBytes(),
                    vm.image.path(), valid.specHash(), valid.vm().description()));
            if (vm.domain != null || vm.observation instanceof Observation.Conflict) {
                fleet.release(vm.key);
                continue;
            }
            Optional<String> taken = fleet.nameTakenBy(domainName, uuid);
            if (taken.isPresent()) {
                fleet.release(vm.key);
                vm.observation = new Observation.Conflict("the domain name " + domainName + " is already used by "
                        + taken.get() + "; an admin must rename or remove that domain");
                continue;
            }
            Optional<String> wait = placementHold(vm, dir, now);
            if (wait.isPresent()) {
                fleet.release(vm.key);
                vm.placement = VmFacts.Placement.waiting(wait.get());
                continue;
            }
            Placement.Choice choice = fleet.place(vm.key, valid.vcpus(), valid.memoryBytes(), macs);
            vm.placement = choice.blade().map(VmFacts.Placement::on)
                    .orElseGet(() -> VmFacts.Placement.unschedulable(choice.reason()));
        }
    }

    private void guardRemovals(Map<String, Vm> vms, boolean readable, Instant now) {
        for (Vm vm : vms.values()) {
            boolean removal = readable && vm.desired instanceof Desired.Absent && vm.domain != null;
            if (!removal) {
                guard.resolved(vm.key);
                continue;
            }
            DeletionGuard.Decision decision = guard.ask(vm.key, now);
            vm.deletionBlocked = decision.heldBecause();
            vm.deletionRetry = decision.askAgainIn();
        }
    }

    private record Outcome(VmPlan plan, String error) {
    }

    /** Plans, runs the calls, looks again, up to {@link #MAX_ROUNDS} times; the last plan gives the status. */
    private Outcome converge(Vm vm, VmStatus.Owner statusOwner, Owner owner, boolean readable, Instant now) {
        VmPlan plan = VmPlanner.plan(facts(vm, statusOwner, owner, readable, now));
        for (int round = 0; round < MAX_ROUNDS && !plan.actions().isEmpty(); round++) {
            noteStartWanted(vm, plan, now);
            Executor.Outcome outcome = executor.run(plan.actions(), vm.rendered, Optional.ofNullable(vm.domain));
            vm.calls += plan.actions().size();
            for (Action done : outcome.done()) {
                afterAction(vm, done);
            }
            refreshObservation(vm, owner, now);
            if (!outcome.ok()) {
                VmPlan failed = VmPlanner.plan(facts(vm, statusOwner, owner, readable, now));
                return new Outcome(new VmPlan(List.of(), failed.status().map(s -> asError(s, outcome.failure().get())),
                        failed.definedXml(), Optional.empty()), outcome.failure().get());
            }
            plan = VmPlanner.plan(facts(vm, statusOwner, owner, readable, now));
        }
        if (!plan.actions().isEmpty()) {
            return new Outcome(new VmPlan(List.of(), plan.status(), plan.definedXml(),
                    Optional.of(Duration.ofMillis(100))), null);
        }
        return new Outcome(plan, null);
    }

    private VmFacts facts(Vm vm, VmStatus.Owner statusOwner, Owner owner, boolean readable, Instant now) {
        return new VmFacts(vm.name, statusOwner, DomainIdentity.domainName(owner.user(), vm.name), vm.desired,
                vm.admission, vm.image, vm.inspection, vm.rendered, vm.placement, vm.observation, vm.history,
                readable, vm.deletionBlocked, config.stopGracePeriod(), now);
    }

    private void noteStartWanted(Vm vm, VmPlan plan, Instant now) {
        if (plan.actions().stream().anyMatch(a -> a instanceof Action.Start)) {
            startsOf(vm.user).putIfAbsent(vm.name, now);
        }
    }

    private void afterAction(Vm vm, Action done) {
        Instant at = clock.instant();
        if (done instanceof Action.Start start) {
            vm.history = vm.history.started(start.afterFailure(), at);
            Instant since = startsOf(vm.user).remove(vm.name);
            if (since != null) {
                metrics.vmStarted(Duration.between(since, at));
            }
        } else if (done instanceof Action.Shutdown) {
            vm.history = vm.history.stopRequested(at);
        } else if (done instanceof Action.Destroy) {
            vm.history = vm.history.stopRequested(vm.history.stopRequestedAt() != null
                    ? vm.history.stopRequestedAt() : at);
        } else if (done instanceof Action.Undefine) {
            guard.resolved(vm.key);
        } else if (done instanceof Action.Define) {
            fleet.release(vm.key);
        }
        historiesOf(vm.user).put(vm.name, vm.history);
    }

    private Map<String, VmHistory> historiesOf(String user) {
        return histories.computeIfAbsent(user, u -> new ConcurrentHashMap<>());
    }

    private Map<String, Instant> startsOf(String user) {
        return startWantedSince.computeIfAbsent(user, u -> new ConcurrentHashMap<>());
    }

    private void refreshObservation(Vm vm, Owner owner, Instant now) {
        List<ObservedDomain> domains = new ArrayList<>();
        for (ObservedDomain d : fleet.domainsOf(owner.user())) {
            if (d.config().vm().equals(vm.name)) {
                domains.add(d);
            }
        }
        vm.domain = null;
        vm.observation = new Observation.None();
        observe(vm, owner, domains, now);
    }

    private static VmStatus asError(VmStatus status, String failure) {
        List<org.ievirsh.status.Condition> conditions = new ArrayList<>();
        for (org.ievirsh.status.Condition c : status.conditions()) {
            conditions.add(c.type().equals(org.ievirsh.status.Condition.READY)
                    ? org.ievirsh.status.Condition.of(c.type(), false, org.ievirsh.status.Reasons.LIBVIRT_ERROR,
                            failure) : c);
        }
        return new VmStatus(status.name(), status.owner(), org.ievirsh.status.Phase.Error,
                failure + " (retrying with back-off)", List.copyOf(conditions), status.blade(), status.domain(),
                status.uuid(), status.mac(), status.ip(), status.vcpus(), status.memory(), status.template(),
                status.image(), status.observedSpecHash(), null);
    }

    private Map<String, VmStatus> writeStatuses(UserIndex.Entry entry, Owner owner, SafeDir dir, boolean readable,
                                                Map<String, VmStatus> statuses,
                                                Map<String, Optional<RenderedDomain>> definedXml,
                                                Set<String> removed) {
        if (!readable || dir == null) {
            return statuses;
        }
        Map<String, VmStatus> written = new HashMap<>();
        String key = entry.directory().toString();
        try (StatusWriter.Files files = statusWriter.open(dir, key, owner.fileUid(), owner.fileGid())) {
            for (Map.Entry<String, VmStatus> e : statuses.entrySet()) {
                written.put(e.getKey(), files.write(e.getValue(), definedXml.get(e.getKey())));
            }
            Set<String> stale = files.present();
            stale.removeAll(statuses.keySet());
            for (String name : stale) {
                if (VirtualMachine.isValidName(name) || removed.contains(name)) {
                    files.remove(name);
                }
            }
            statusProblemsLogged.remove(key);
        } catch (PosixException e) {
            metrics.statusWriteFailed();
            if (statusProblemsLogged.add(key)) {
                LOG.warning("cannot write the status of " + owner.user() + " in " + key + "/.status: "
                        + e.getMessage());
            }
            return statuses;
        }
        return written;
    }

    private void reportMetrics(String user, Map<String, Vm> vms) {
        Map<String, Integer> specErrors = new HashMap<>();
        Map<String, Integer> imageErrors = new HashMap<>();
        int conflicts = 0;
        for (Vm vm : vms.values()) {
            if (vm.desired instanceof Desired.Invalid) {
                String reason = vm.spec != null && !vm.spec.errorReason().isEmpty() ? vm.spec.errorReason() : "template";
                specErrors.merge(reason, 1, Integer::sum);
            }
            if (vm.image != null && !vm.image.accepted()) {
                imageErrors.merge(vm.image.reason(), 1, Integer::sum);
            } else if (vm.inspection != null && vm.inspection.state() == Inspection.State.INSECURE) {
                imageErrors.merge(Reasons.INSECURE_IMAGE, 1, Integer::sum);
            } else if (vm.inspection != null && vm.inspection.state() == Inspection.State.FAILED) {
                imageErrors.merge(Reasons.INSPECTION_FAILED, 1, Integer::sum);
            }
            if (vm.observation instanceof Observation.Conflict) {
                conflicts++;
            }
        }
        metrics.specErrors(user, specErrors);
        metrics.imagesRejected(user, imageErrors);
        metrics.conflicts(user, conflicts);
    }

    /** True when {@code user}'s last pass ended clean and rested only on what a few stats can tell. */
    public boolean quiet(String user) {
        return quiet.containsKey(user);
    }

    /** Forgets what is remembered of a user who has no directory any more. */
    public void forget(String user, String directory) {
        histories.remove(user);
        clean.remove(user);
        quiet.remove(user);
        specs.forget(directory);
        renders.forget(user + "/");
        startWantedSince.remove(user);
        statusWriter.forgetDirectory(directory);
        book.removeUser(user);
        metrics.forgetUser(user);
        perVm.forget(user);
    }
}
