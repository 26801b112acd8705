package org.ievirsh.reconcile;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.blade.ObservedDomain;
import org.ievirsh.image.BaseImages;
import org.ievirsh.image.Inspections;
import org.ievirsh.posix.FileStat;
import org.ievirsh.posix.Lstat;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.template.DomainIdentity;
import org.ievirsh.users.Owner;

/**
 * DiskGathering reads what a VM's disk rests on beyond its image file (the
 * README's "Base images"): the admin's base it is, or is to be, an overlay
 * of (the catalog's file, what a look inside it found, the version its
 * domain was defined with), its NoCloud seed (what it would be made from
 * now, and whether the one there was made from that), and how much of the
 * student's disk quota their other such disks take. It changes nothing; the
 * planner decides what follows.
 */
final class DiskGathering {
    private static final int INPUTS_BYTES = 4096;
    /** MAX_SIZED bounds the headers remembered (a few per student). */
    private static final int MAX_SIZED = 200_000;

    private final BaseImages bases;
    private final Inspections inspections;
    private final Path imagesRoot;

    DiskGathering(BaseImages bases, Inspections inspections, Path imagesRoot) {
        this.bases = bases;
        this.inspections = inspections;
        this.imagesRoot = imagesRoot;
    }

    /** A number that moves when the base images' catalog changes. */
    long generation() {
        return bases.generation();
    }

    /**
     * Each admitted VM's disk facts, by VM name; {@code dir} is the student's
     * VM directory (where {@code <vm>.user-data} is), {@code rests} learns
     * what the facts rest on.
     */
    Map<String, DiskFacts> gather(Owner owner, java.util.Collection<VmSoFar> vms, SafeDir dir,
                                  Function<Optional<ControllerConfig.Course>, QuotaLimits> limitsOf,
                                  QuietUser.Builder rests) {
        Map<String, Optional<ControllerConfig.Course>> imageCourse = new HashMap<>();
        boolean limited = false;
        for (VmSoFar vm : vms) {
            if (vm.desired() instanceof Desired.Valid valid) {
                Optional<ControllerConfig.Course> course = vm.course();
                imageCourse.put(valid.vm().image(), course);
                limited |= limitsOf.apply(course).diskBytes() != QuotaLimits.UNLIMITED;
            }
        }
        // Each disk counts where the VM that names it counts (a course's, or the student's own); a disk no file
        // names counts against the student's own quota.
        Map<Optional<ControllerConfig.Course>, Long> usedBy = new HashMap<>();
        if (limited) {
            madeFromBases(owner, rests).forEach((image, size) -> usedBy.merge(imageCourse.getOrDefault(image,
                    Optional.empty()), size, Long::sum));
        }
        Optional<FileStat> keys = Optional.empty();
        boolean keysRead = false;
        Map<String, DiskFacts> disks = new HashMap<>();
        for (VmSoFar vm : vms) {
            if (!vm.admitted()) {
                continue;
            }
            Desired.Valid valid = (Desired.Valid) vm.desired();
            VirtualMachine spec = valid.vm();
            Optional<String> name = spec.baseImage().or(() -> vm.image().backing().flatMap(this::nameOf));
            Optional<DiskFacts.Base> base = name.map(n -> base(n, spec, vm));
            VirtualMachine.FirstBoot firstBoot = spec.firstBoot().orElseGet(() -> base.flatMap(DiskFacts.Base::entry)
                    .map(e -> e.descriptor().firstBoot()).orElse(VirtualMachine.FirstBoot.NONE));
            Optional<DiskFacts.Seed> seed = Optional.empty();
            if (firstBoot == VirtualMachine.FirstBoot.CLOUD_INIT) {
                if (!keysRead) {
                    keys = keyFile(owner, rests);
                    keysRead = true;
                }
                seed = Optional.of(seed(owner, vm, dir, keys, rests));
            }
            long own = vm.image().accepted() && vm.image().backing().flatMap(this::nameOf).isPresent()
                    ? Math.max(0, vm.image().virtualSize()) : 0;
            long used = usedBy.getOrDefault(vm.course(), 0L);
            disks.put(vm.name(), new DiskFacts(base, seed, Math.max(0, used - own),
                    limitsOf.apply(vm.course()).diskBytes()));
        }
        return disks;
    }

    /**
     * The virtual sizes of the student's disks made from bases: every
     * overlay of a base of the catalog in their image directory, whether a
     * VM file names it or not (a disk outlives its file, and a disk moved
     * aside by {@code ie-virsh reset} is there until they delete it). Each
     * file's header is read once per version. By file name; files that
     * are no overlay of a base are left out.
     */
    private Map<String, Long> madeFromBases(Owner owner, QuietUser.Builder rests) {
        Path path = imagesRoot.resolve(owner.user());
        Map<String, Long> sizes = new HashMap<>();
        try (SafeDir images = SafeDir.openTrusted(imagesRoot); SafeDir mine = images.openDir(owner.user())) {
            rests.file(path, Optional.of(mine.stat()));  // a disk made, moved or deleted changes the directory
            for (SafeDir.Entry entry : mine.list()) {
                if (entry.type() == FileStat.Type.REGULAR && !entry.name().startsWith(".")) {
                    long size = overlaySize(mine, path.resolve(entry.name()), entry.name());
                    if (size > 0) {
                        sizes.put(entry.name(), size);
                    }
                }
            }
        } catch (PosixException e) {
            rests.file(path, null);
        }
        return sizes;
    }

    /** The virtual size of {@code name} when it is an overlay of a base of the catalog, else 0. */
    private long overlaySize(SafeDir dir, Path path, String name) throws PosixException {
        Optional<FileStat> stat = dir.stat(name);
        if (stat.isEmpty() || !stat.get().isRegular()) {
            return 0;
        }
        String version = stat.get().contentVersion();
        Sized known = sized.get(path);
        if (known == null || !known.version().equals(version)) {
            long size = 0;
            try (org.ievirsh.posix.OpenFile file = dir.open(name)) {
                if (file != null) {
                    byte[] head = file.readAt(0, org.ievirsh.image.Qcow2Header.FIRST_READ);
                    if (org.ievirsh.image.Qcow2Header.looksLikeQcow2(head)
                            && org.ievirsh.image.Qcow2Header.backingFile(head).flatMap(this::nameOf).isPresent()) {
                        size = Math.max(0, org.ievirsh.image.Qcow2Header.virtualSize(head)) + snapshots(file, head);
                    }
                }
            }
            known = new Sized(version, size);
            if (sized.size() > MAX_SIZED) {
                sized.clear();  // files gone since are forgotten: read again, once
            }
            sized.put(path, known);
        }
        return known.bytes();
    }

    /**
     * The memory states the overlay's snapshots saved (the README's
     * "Snapshots": they count toward quota.disk beside the disk's virtual
     * size). The disk blocks a snapshot keeps are not counted: telling them
     * would take reading the image's reference counts.
     */
    private static long snapshots(org.ievirsh.posix.OpenFile file, byte[] head) throws PosixException {
        Optional<long[]> table = org.ievirsh.image.Qcow2Header.snapshotTable(head);
        if (table.isEmpty()) {
            return 0;
        }
        int bytes = (int) Math.min(SNAPSHOT_TABLE_BYTES, table.get()[1] * 1024);
        return org.ievirsh.image.Qcow2Header.memoryStates(file.readAt(table.get()[0], bytes), table.get()[1]);
    }

    /** The most of a snapshot table read: far more than 100 entries of names as VM names. */
    private static final int SNAPSHOT_TABLE_BYTES = 256 * 1024;

    /** Sized is what a file's header said of it at one version. */
    private record Sized(String version, long bytes) {
    }

    private final Map<Path, Sized> sized = new java.util.concurrent.ConcurrentHashMap<>();

    /** The name of the base of the catalog whose path an overlay names. */
    private Optional<String> nameOf(String backing) {
        return bases.all().values().stream().filter(b -> b.path().toString().equals(backing))
                .map(BaseImages.Base::name).findFirst();
    }

    private DiskFacts.Base base(String name, VirtualMachine spec, VmSoFar vm) {
        Optional<BaseImages.Base> entry = bases.find(name);
        org.ievirsh.image.Inspection inspection = entry.filter(BaseImages.Base::ready)
                .map(e -> inspections.knownBase(name, e.version())).orElse(null);
        ObservedDomain domain = vm.domain();
        Optional<String> recorded = domain == null ? Optional.empty() : domain.config().base();
        return new DiskFacts.Base(name, spec.baseImage().isPresent(), entry, inspection, recorded, spec.diskBytes());
    }

    /** The student's authorized_keys, by its stat alone (it is read, as them, only to make a seed). */
    private static Optional<FileStat> keyFile(Owner owner, QuietUser.Builder rests) {
        if (owner.home().isEmpty()) {
            return Optional.empty();
        }
        Path path = Path.of(owner.home(), ".ssh", "authorized_keys");
        try {
            Optional<FileStat> stat = new Lstat(path).now();
            rests.file(path, stat);
            return stat;
        } catch (PosixException e) {
            rests.file(path, null);
            return Optional.empty();
        }
    }

    private DiskFacts.Seed seed(Owner owner, VmSoFar vm, SafeDir dir, Optional<FileStat> keys,
                                QuietUser.Builder rests) {
        String uuid = vm.domain() != null ? vm.domain().uuid() : DomainIdentity.uuidFor(owner.user(), owner.uid(),
                vm.name());
        Optional<FileStat> userData = Optional.empty();
        String userDataPath = dir == null ? "" : Path.of(dir.description(), vm.name() + ".user-data").toString();
        if (dir != null) {
            try {
                userData = dir.stat(vm.name() + ".user-data");
                rests.file(Path.of(dir.description(), vm.name() + ".user-data"), userData);
            } catch (PosixException e) {
                rests.file(Path.of(dir.description(), vm.name() + ".user-data"), null);
            }
        }
        String inputs = org.ievirsh.api.v1.VirtualMachineFile.hash(String.join("\n", "seed-1", uuid, vm.name(),
                owner.home(), keys.map(FileStat::version).orElse("-"), userData.map(FileStat::version).orElse("-"))
                .getBytes(StandardCharsets.UTF_8));
        Path seeds = imagesRoot.resolve(owner.user()).resolve(".seed");
        boolean current = false;
        try (SafeDir images = SafeDir.openTrusted(imagesRoot); SafeDir mine = images.openDir(owner.user());
             SafeDir dotSeed = mine.openDir(".seed")) {
            Optional<SafeDir.Contents> made = dotSeed.read(vm.name() + ".inputs", INPUTS_BYTES);
            Optional<FileStat> iso = dotSeed.stat(vm.name() + ".iso");
            rests.file(seeds.resolve(vm.name() + ".inputs"), made.map(SafeDir.Contents::stat));
            current = made.isPresent() && made.get().bytes() != null && made.get().stat().uid() == owner.fileUid()
                    && new String(made.get().bytes(), StandardCharsets.UTF_8).strip().equals(inputs)
                    && iso.isPresent() && iso.get().isRegular() && iso.get().uid() == owner.fileUid();
        } catch (PosixException e) {
            rests.file(seeds.resolve(vm.name() + ".inputs"), e.isNotFound() ? Optional.empty() : null);
        }
        return new DiskFacts.Seed(seeds.resolve(vm.name() + ".iso").toString(), inputs, current, userDataPath, uuid);
    }
}
