package org.ievirsh.libvirt;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ievirsh.template.SafeXml;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * FakeHypervisor is an in-memory blade for tests of the loop: it keeps
 * domains by UUID with their XML and state, answers the metadata the way
 * libvirt does, and emits lifecycle events. A guest "shuts down" on ACPI
 * only when {@link #acpiWorks} is set.
 */
public final class FakeHypervisor implements Hypervisor {
    private final String blade;
    private final Map<String, Dom> domains = new HashMap<>();
    private volatile Consumer<LifecycleEvent> events = e -> { };
    public volatile boolean acpiWorks = true;
    public volatile boolean failDefines;
    /** Set to make defines fail the way libvirt refuses a definition it cannot run (final until it changes). */
    public volatile boolean refuseDefines;
    public final AtomicInteger calls = new AtomicInteger();
    /** While set, every start waits for it to count down. */
    public volatile java.util.concurrent.CountDownLatch hold;
    /** While set, usage() waits for it: a bulk statistics call that hangs. */
    public volatile java.util.concurrent.CountDownLatch holdUsage;
    /** Calls that change something: define, start, shutdown, destroy, undefine. */
    public final AtomicInteger changes = new AtomicInteger();
    private final Map<String, Integer> starts = new java.util.HashMap<>();
    /** What the guest agent (or the ARP table) of a domain answers, by domain name; absent: not connected. */
    public final Map<String, List<GuestNic>> agentAnswers = new java.util.concurrent.ConcurrentHashMap<>();
    public final Map<String, List<GuestNic>> arpAnswers = new java.util.concurrent.ConcurrentHashMap<>();
    /** How many address calls were made; set {@link #agentHangs} to make each one wait that long. */
    public final AtomicInteger addressCalls = new AtomicInteger();
    public volatile long agentHangs;
    /** Guests whose agent answers the handshake, never the command: a question waits this long, then fails. */
    public final Map<String, Long> muteAgents = new java.util.concurrent.ConcurrentHashMap<>();
    /** Open consoles by domain name: what the guest "types" goes in {@link FakeConsole#fromGuest}. */
    public final Map<String, FakeConsole> consoles = new java.util.concurrent.ConcurrentHashMap<>();

    private static final class Dom {
        String name;
        String xml;
        String liveXml;
        DomainState state = DomainState.SHUTOFF;
        StopReason reason = StopReason.UNKNOWN;
    }

    public FakeHypervisor(String blade) {
        this.blade = blade;
    }

    void onEvent(Consumer<LifecycleEvent> sink) {
        this.events = sink;
    }

    @Override
    public String blade() {
        return blade;
    }

    @Override
    public synchronized List<DomainSummary> listAll() {
        calls.incrementAndGet();
        List<DomainSummary> all = new ArrayList<>();
        domains.forEach((uuid, d) -> all.add(new DomainSummary(uuid, d.name, d.state,
                d.state == DomainState.SHUTOFF ? d.reason : StopReason.UNKNOWN)));
        return all;
    }

    @Override
    public synchronized Optional<DomainSummary> lookup(String uuid) {
        calls.incrementAndGet();
        Dom d = domains.get(uuid);
        return d == null ? Optional.empty() : Optional.of(new DomainSummary(uuid, d.name, d.state, StopReason.UNKNOWN));
    }

    @Override
    public synchronized Optional<String> metadata(String uuid, String namespace, boolean live) throws HypervisorException {
        calls.incrementAndGet();
        Dom d = find(uuid);
        if (live && !d.state.isActive()) {
            throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, "domain is not running");
        }
        return metadataOf(live ? d.liveXml : d.xml, namespace);
    }

    @Override
    public synchronized String definitionXml(String uuid) throws HypervisorException {
        calls.incrementAndGet();
        return find(uuid).xml;
    }

    @Override
    public String define(String xml) throws HypervisorException {
        calls.incrementAndGet();
        changes.incrementAndGet();
        if (failDefines) {
            throw new HypervisorException(HypervisorException.Kind.OTHER, blade + ": define: internal error");
        }
        if (refuseDefines) {
            throw new HypervisorException(HypervisorException.Kind.REFUSED, blade + ": define: unsupported"
                    + " configuration: the template's machine type is not known here");
        }
        String uuid = tag(xml, "uuid").orElse(UUID.randomUUID().toString());
        String name = tag(xml, "name").orElseThrow();
        synchronized (this) {
            for (Map.Entry<String, Dom> e : domains.entrySet()) {
                if (e.getValue().name.equals(name) && !e.getKey().equals(uuid)) {
                    throw new HypervisorException(HypervisorException.Kind.OTHER, "domain '" + name
                            + "' already exists with uuid " + e.getKey());
                }
            }
            Dom d = domains.computeIfAbsent(uuid, u -> new Dom());
            d.name = name;
            d.xml = xml;
        }
        emit(uuid, name, LifecycleEvent.Kind.DEFINED, StopReason.UNKNOWN);
        return uuid;
    }

    /** An admin renames a domain (or it was named by an older controller): its name and XML change. */
    public void rename(String from, String to) {
        String uuid;
        synchronized (this) {
            uuid = uuidOf(from);
            Dom d = domains.get(uuid);
            d.name = to;
            d.xml = d.xml.replace("<name>" + from + "</name>", "<name>" + to + "</name>");
        }
        emit(uuid, to, LifecycleEvent.Kind.DEFINED, StopReason.UNKNOWN);
    }

    @Override
    public void start(String uuid) throws HypervisorException {
        calls.incrementAndGet();
        changes.incrementAndGet();
        java.util.concurrent.CountDownLatch gate = hold;
        if (gate != null) {
            try {
                gate.await();  // a call that hangs, as a blade's libvirtd can
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (imageLocked) {
            throw new HypervisorException(HypervisorException.Kind.IN_USE, blade + ": start: resource busy: Lockspace"
                    + " resource 'web.qcow2' is locked");
        }
        String name;
        synchronized (this) {
            Dom d = find(uuid);
            if (d.state.isActive()) {
                throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, "domain is already running");
            }
            d.state = DomainState.RUNNING;
            d.liveXml = d.xml;
            name = d.name;
            starts.merge(name, 1, Integer::sum);
        }
        emit(uuid, name, LifecycleEvent.Kind.STARTED, StopReason.UNKNOWN);
    }

    @Override
    public void shutdown(String uuid) throws HypervisorException {
        calls.incrementAndGet();
        changes.incrementAndGet();
        synchronized (this) {
            if (!find(uuid).state.isActive()) {
                throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, "domain is not running");
            }
        }
        if (acpiWorks) {
            stop(uuid, StopReason.SHUTDOWN);
        }
    }

    @Override
    public void destroy(String uuid) throws HypervisorException {
        calls.incrementAndGet();
        changes.incrementAndGet();
        stop(uuid, StopReason.DESTROYED);
    }

    /** Stops a domain as if from outside (the guest, an admin's virsh destroy, a crash). */
    public void stop(String uuid, StopReason reason) throws HypervisorException {
        String name;
        synchronized (this) {
            Dom d = find(uuid);
            if (!d.state.isActive()) {
                throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, "domain is not running");
            }
            d.state = DomainState.SHUTOFF;
            d.reason = reason;
            d.liveXml = null;
            name = d.name;
        }
        endConsole(name);
        emit(uuid, name, LifecycleEvent.Kind.STOPPED, reason);
    }

    @Override
    public void undefine(String uuid) throws HypervisorException {
        calls.incrementAndGet();
        changes.incrementAndGet();
        String name;
        synchronized (this) {
            Dom d = find(uuid);
            if (d.state.isActive()) {
                d.xml = null;
            } else {
                domains.remove(uuid);
            }
            name = d.name;
        }
        emit(uuid, name, LifecycleEvent.Kind.UNDEFINED, StopReason.UNKNOWN);
    }

    @Override
    public List<GuestNic> interfaceAddresses(String uuid, AddressSource source) throws HypervisorException {
        addressCalls.incrementAndGet();
        String name;
        synchronized (this) {
            Dom d = find(uuid);
            if (!d.state.isActive()) {
                throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, "domain is not running");
            }
            name = d.name;
        }
        if (agentHangs > 0) {
            try {
                Thread.sleep(agentHangs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Long mute = source == AddressSource.AGENT ? muteAgents.get(name) : null;
        if (mute != null) {
            try {
                Thread.sleep(mute);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new HypervisorException(HypervisorException.Kind.OTHER, "Guest agent is not responding: "
                    + "Guest agent not available for now");
        }
        List<GuestNic> answer = (source == AddressSource.AGENT ? agentAnswers : arpAnswers).get(name);
        if (answer == null) {
            throw new HypervisorException(HypervisorException.Kind.OTHER, "Guest agent is not responding");
        }
        return answer;
    }

    @Override
    public ConsoleStream openConsole(String uuid, boolean force) throws HypervisorException {
        String name;
        synchronized (this) {
            Dom d = find(uuid);
            if (!d.state.isActive()) {
                throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, "domain is not running");
            }
            name = d.name;
        }
        FakeConsole open = consoles.get(name);
        if (open != null && !open.closed()) {
            if (!force) {
                throw new HypervisorException(HypervisorException.Kind.IN_USE,
                        "operation failed: Active console session exists for this domain");
            }
            open.close();
        }
        FakeConsole console = new FakeConsole();
        consoles.put(name, console);
        return console;
    }

    /** Set to make a migration take this long (a test of what is seen meanwhile) or fail. */
    public volatile long migrationMillis;
    public volatile boolean failMigrations;
    /** Set to make starts fail the way libvirt does when the lock manager refuses the disk. */
    public volatile boolean imageLocked;
    public final AtomicInteger migrations = new AtomicInteger();

    @Override
    public void migrate(String uuid, Hypervisor destination, boolean live, MoveOptions options)
            throws HypervisorException {
        FakeHypervisor to = (FakeHypervisor) destination;
        Dom d;
        synchronized (this) {
            d = find(uuid);
            if (live != d.state.isActive()) {
                throw new HypervisorException(HypervisorException.Kind.INVALID_OPERATION, "wrong kind of move");
            }
        }
        migrations.incrementAndGet();
        if (migrationMillis > 0) {
            try {
                Thread.sleep(migrationMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failMigrations) {
            // libvirt's words on two blades without a cluster file system
            throw new HypervisorException(HypervisorException.Kind.OTHER, blade() + ": " + uuid + ": Unsafe migration:"
                    + " Migration without shared storage is unsafe");
        }
        synchronized (to) {
            Dom copy = new Dom();
            copy.name = d.name;
            copy.xml = d.xml;
            copy.liveXml = d.liveXml;
            copy.state = d.state;
            to.domains.put(uuid, copy);
        }
        synchronized (this) {
            domains.remove(uuid);
        }
        if (live) {
            emit(uuid, d.name, LifecycleEvent.Kind.STOPPED, StopReason.MIGRATED);
            to.emit(uuid, d.name, LifecycleEvent.Kind.RESUMED, StopReason.UNKNOWN);
        }
        emit(uuid, d.name, LifecycleEvent.Kind.UNDEFINED, StopReason.UNKNOWN);
        to.emit(uuid, d.name, LifecycleEvent.Kind.DEFINED, StopReason.UNKNOWN);
    }

    /** The guest agent of domain {@code name} connects: libvirt's agent lifecycle event. */
    public void agentConnects(String name) {
        emit(uuidOf(name), name, LifecycleEvent.Kind.AGENT_CONNECTED, StopReason.UNKNOWN);
    }

    /** Ends the console of a domain as its stop would. */
    void endConsole(String name) {
        FakeConsole open = consoles.get(name);
        if (open != null) {
            open.close();
        }
    }

    @Override
    public NodeResources nodeResources() {
        return new NodeResources(32, 64L << 30);
    }

    @Override
    public Map<String, DomainUsage> usage() {
        java.util.concurrent.CountDownLatch gate = holdUsage;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return usageNow();
    }

    private synchronized Map<String, DomainUsage> usageNow() {
        Map<String, DomainUsage> usage = new HashMap<>();
        domains.forEach((uuid, d) -> {
            if (d.state.isActive()) {
                usage.put(uuid, new DomainUsage(uuid, 1_500_000_000L, 100L << 20));
            }
        });
        return usage;
    }

    /** Names of the domains defined now. */
    public synchronized List<String> names() {
        return domains.values().stream().map(d -> d.name).sorted().toList();
    }

    /** The state of a domain by name, or null. */
    /** How many times the domain {@code name} was started. */
    public synchronized int starts(String name) {
        return starts.getOrDefault(name, 0);
    }

    public synchronized DomainState state(String name) {
        return domains.values().stream().filter(d -> d.name.equals(name)).map(d -> d.state).findFirst().orElse(null);
    }

    /** The UUID of a domain by name, or null. */
    public synchronized String uuidOf(String name) {
        return domains.entrySet().stream().filter(e -> e.getValue().name.equals(name)).map(Map.Entry::getKey)
                .findFirst().orElse(null);
    }

    /** The persistent XML of a domain by name. */
    public synchronized String xmlOf(String name) {
        return domains.values().stream().filter(d -> d.name.equals(name)).map(d -> d.xml).findFirst().orElse(null);
    }

    /** Defines a domain that ie-virsh does not manage (no metadata). */
    public void defineForeign(String name) throws HypervisorException {
        define("<domain type='kvm'><name>" + name + "</name><uuid>" + UUID.randomUUID() + "</uuid></domain>");
    }

    /** Replaces a domain's XML as an admin's virsh edit would (behind the controller's back); returns it. */
    public String editOutside(String name, String from, String to) throws HypervisorException {
        String uuid = uuidOf(name);
        String edited = xmlOf(name).replace(from, to).replaceFirst("<uuid>[^<]*</uuid>", "<uuid>" + uuid + "</uuid>");
        define(edited);
        return edited;
    }

    private Dom find(String uuid) throws HypervisorException {
        Dom d = domains.get(uuid);
        if (d == null || d.xml == null && !d.state.isActive()) {
            throw HypervisorException.notFound("domain " + uuid);
        }
        return d;
    }

    private void emit(String uuid, String name, LifecycleEvent.Kind kind, StopReason reason) {
        events.accept(new LifecycleEvent(blade, uuid, name, kind, reason));
    }

    private static Optional<String> tag(String xml, String tag) {
        Matcher m = Pattern.compile("<" + tag + ">([^<]*)</" + tag + ">").matcher(xml);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    private static Optional<String> metadataOf(String xml, String namespace) throws HypervisorException {
        if (xml == null) {
            return Optional.empty();
        }
        try {
            Document doc = SafeXml.parse(xml.getBytes(StandardCharsets.UTF_8));
            var found = doc.getElementsByTagNameNS(namespace, "*");
            for (int i = 0; i < found.getLength(); i++) {
                Node node = found.item(i);
                if (node.getParentNode() instanceof Element parent && "metadata".equals(parent.getTagName())) {
                    return Optional.of(SafeXml.write(node));
                }
            }
            return Optional.empty();
        } catch (java.io.IOException e) {
            throw new HypervisorException(HypervisorException.Kind.OTHER, "bad xml");
        }
    }
}
