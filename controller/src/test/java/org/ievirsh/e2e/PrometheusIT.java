package org.ievirsh.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * PrometheusIT has Debian's Prometheus scrape a running controller (the
 * jar) that reconciles real KVM VMs, then checks every query of the Grafana
 * dashboard and every alert rule against Prometheus' HTTP API, and runs
 * promtool on the rules and on a real scrape. A renamed metric or a wrong
 * query fails here.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class PrometheusIT {
    private static final String USER = "ievprom";
    private static final Host HOST = new Host();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Process controller;
    static Process prometheus;
    static int controllerPort;
    static int prometheusPort;

    @BeforeAll
    static void start() throws Exception {
        Host.removeDomains(USER + "-");
        Host.openToAll(tmp);
        Path homes = Files.createDirectories(tmp.resolve("home"));
        HOST.user(USER, 41201, homes);
        Path dir = homes.resolve(USER).resolve("ie-virsh");
        Path images = tmp.resolve("images").resolve(USER);
        for (String vm : List.of("web", "lab", "box")) {
            Host.image(images, USER, vm + ".qcow2");
        }
        Host.image(images, USER, "evil.qcow2", "-b", "/etc/shadow", "-F", "raw", "-u");
        Host.templates(tmp.resolve("templates"));
        Host.write(dir.resolve("web.yaml"), USER, vmFile("web", "Always"));
        Host.write(dir.resolve("lab.yaml"), USER, vmFile("lab", "Halted"));
        Host.write(dir.resolve("evil.yaml"), USER, vmFile("evil", "Always"));
        Host.write(dir.resolve("broken.yaml"), USER, "spec: [\n");
        controllerPort = freePort();
        Files.writeString(tokenFile(tmp), java.util.UUID.randomUUID() + "\n");
        Commands.ok("chmod", "600", tokenFile(tmp).toString());
        Path config = tmp.resolve("controller.yaml");
        Files.writeString(config, "users:\n  directories: " + homes + "/*/ie-virsh\n  minUid: 1000\n"
                + "images:\n  inspection: off\n  root: " + tmp.resolve("images") + "\ntemplates: " + tmp.resolve("templates") + "\n"
                + "blades:\n  - {name: local, uri: \"qemu:///system\", capacity: {vcpus: 64, memory: 256GiB}}\n"
                + "http: {listen: \"127.0.0.1:" + controllerPort + "\", tokenFile: \"" + tokenFile(tmp) + "\"}\n"
                + "resync: 5s\nstopGracePeriod: 2s\nconsole: {socket: " + tmp.resolve("console.sock") + "}\n"
                // A course of the student's own group: its VM for the course panels.
                + "courses:\n  pc:\n    students: " + USER + "\n    vms:\n"
                + "      box: {image: box.qcow2, template: small, memory: 128MiB, runStrategy: Halted}\n");
        controller = new ProcessBuilder("java", "-jar", System.getProperty("ievirsh.jar"), "controller", "--config",
                config.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("controller.log").toFile())
                .start();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> fetch("http://127.0.0.1:"
                + controllerPort + "/readyz", false).body().startsWith("ready"));
        await().atMost(Duration.ofSeconds(60)).until(() -> Host.state(USER + "-web").equals("running"));

        prometheusPort = freePort();
        Path prometheusConfig = tmp.resolve("prometheus.yml");
        Files.writeString(prometheusConfig, "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                + "rule_files: [" + Repo.path("grafana/alerts.yml") + "]\n"
                + "scrape_configs:\n  - job_name: ie-virsh\n"
                + "    authorization: {type: Bearer, credentials_file: " + tokenFile(tmp) + "}\n"
                + "    static_configs:\n"
                + "      - targets: [\"127.0.0.1:" + controllerPort + "\"]\n");
        prometheus = new ProcessBuilder("prometheus", "--config.file=" + prometheusConfig,
                "--storage.tsdb.path=" + tmp.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + prometheusPort,
                "--log.level=warn").redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile())
                .start();
        // Rates need a few samples: wait until Prometheus has seen the controller several times.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
                .until(() -> !query("count_over_time(up{job=\"ie-virsh\"}[1m]) >= 5").isEmpty()
                        && !query("rate(ievirsh_vm_cpu_seconds_total[1m])").isEmpty());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        for (Process p : new Process[] {prometheus, controller}) {
            if (p != null) {
                p.destroy();
                p.waitFor();
            }
        }
        Host.removeDomains(USER + "-");
        HOST.deleteUsers();
    }

    private static String vmFile(String vm, String strategy) {
        return "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  template: small\n  image: " + vm
                + ".qcow2\n  runStrategy: " + strategy + "\n  memory: 128MiB\n";
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The token file of the controller's HTTP, as an admin makes it (root's, 0600). */
    private static Path tokenFile(Path dir) {
        return dir.resolve("http-token");
    }

    private static String get(String url) {
        return fetch(url, true).body();
    }

    /** A GET of {@code url}, with the controller's token or without. */
    private static HttpResponse<String> fetch(String url, boolean withToken) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
            if (withToken && url.contains(":" + controllerPort + "/")) {
                request.header("Authorization", "Bearer " + Files.readString(tokenFile(tmp)).strip());
            }
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The result of an instant query; fails the test if Prometheus cannot parse it. */
    private static List<JsonNode> query(String expr) throws IOException {
        String body = get("http://127.0.0.1:" + prometheusPort + "/api/v1/query?query="
                + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        JsonNode answer = JSON.readTree(body);
        assertEquals("success", answer.path("status").asText(), expr + ": " + body);
        List<JsonNode> result = new ArrayList<>();
        answer.path("data").path("result").forEach(result::add);
        return result;
    }

    /** Every query of the dashboard, panels inside rows included, with its variables set to "All". */
    private static Map<String, String> dashboardQueries() throws IOException {
        JsonNode dashboard = JSON.readTree(Repo.path("grafana/dashboard.json").toFile());
        Map<String, String> queries = new TreeMap<>();
        collect(dashboard.path("panels"), queries);
        assertTrue(queries.size() >= 15, "the dashboard has its panels: " + queries.keySet());
        return queries;
    }

    private static void collect(JsonNode panels, Map<String, String> queries) {
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText().replace("$blade", ".*").replace("$user", ".*");
                queries.put(panel.path("title").asText() + " / " + target.path("refId").asText(), expr);
            }
            collect(panel.path("panels"), queries);
        }
    }

    @Test
    void everyDashboardQueryReturnsData() throws IOException {
        List<String> empty = new ArrayList<>();
        for (Map.Entry<String, String> q : dashboardQueries().entrySet()) {
            if (query(q.getValue()).isEmpty()) {
                empty.add(q.getKey() + ": " + q.getValue());
            }
        }
        assertEquals(List.of(), empty, "dashboard queries without data");
    }

    @Test
    void everyDashboardVariableHasValues() throws IOException {
        JsonNode dashboard = JSON.readTree(Repo.path("grafana/dashboard.json").toFile());
        Pattern labelValues = Pattern.compile("label_values\\((\\w+), *(\\w+)\\)");
        int checked = 0;
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            Matcher m = labelValues.matcher(variable.path("definition").asText());
            if (m.matches()) {
                assertTrue(!query("count by (" + m.group(2) + ") (" + m.group(1) + ")").isEmpty(),
                        variable.path("name").asText());
                checked++;
            }
        }
        assertEquals(2, checked);
    }

    @Test
    void everyAlertRuleParsesAndItsSeriesExist() throws IOException {
        String rules = Files.readString(Repo.path("grafana/alerts.yml"));
        Matcher m = Pattern.compile("expr: (.+)").matcher(rules);
        int checked = 0;
        while (m.find()) {
            String expr = m.group(1).strip();
            // "A > 0.9" asks whether it fires; "A > bool 0.9" gives the series it is computed from, 0 or 1.
            String asBool = expr.replaceFirst("(==|!=|>=|<=|>|<) ([0-9.]+)$", "$1 bool $2");
            assertTrue(!asBool.equals(expr), "a rule ends in a comparison with a number: " + expr);
            assertTrue(!query(asBool).isEmpty(), "no data for the rule " + expr);
            checked++;
        }
        assertEquals(13, checked);
        String loaded = get("http://127.0.0.1:" + prometheusPort + "/api/v1/rules");
        assertTrue(loaded.contains("IevirshDeletionGuardTripped") && loaded.contains("\"health\":\"ok\""), loaded);
        assertTrue(!loaded.contains("\"health\":\"err\""), loaded);
    }

    @Test
    void promtoolFindsNothingToFixInRulesAndOnARealScrape() throws IOException {
        assertTrue(Commands.ok("promtool", "check", "rules", Repo.path("grafana/alerts.yml").toString())
                .contains("SUCCESS: 13 rules found"));
        assertTrue(Commands.ok("promtool", "test", "rules", Repo.path("grafana/alerts-test.yml").toString())
                .contains("SUCCESS"));
        Path scrape = Files.writeString(tmp.resolve("scrape.txt"),
                get("http://127.0.0.1:" + controllerPort + "/metrics"));
        assertTrue(Files.readString(scrape).contains("ievirsh_vm_cpu_seconds_total{user=\"" + USER + "\",vm=\"web\"}"));
        Commands.Result lint = Commands.run(List.of("sh", "-c", "promtool check metrics < " + scrape));
        assertEquals(0, lint.code(), lint.output());
        assertEquals("", lint.output().strip());
    }

    @Test
    void everyEndpointButTheHealthChecksWantsTheToken() {
        String base = "http://127.0.0.1:" + controllerPort;
        for (String path : List.of("/metrics", "/api/v1/vms")) {
            HttpResponse<String> refused = fetch(base + path, false);
            assertEquals(401, refused.statusCode(), path);
            assertTrue(refused.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), path);
            assertTrue(!refused.body().contains("ievirsh_"), path + " says nothing without the token");
            assertEquals(200, fetch(base + path, true).statusCode(), path);
        }
        assertEquals(200, fetch(base + "/healthz", false).statusCode());
        assertEquals(200, fetch(base + "/readyz", false).statusCode());
    }

    @Test
    void theVmListFollowsTheStatusSchema() throws IOException {
        JsonNode vms = JSON.readTree(get("http://127.0.0.1:" + controllerPort + "/api/v1/vms"));
        assertTrue(vms.isArray() && vms.size() >= 3, vms.toString());
        org.ievirsh.api.schema.SchemaCheck schema = org.ievirsh.api.schema.SchemaCheck.load(
                org.ievirsh.api.schema.SchemaCheck.STATUS_V1);
        for (JsonNode vm : vms) {
            org.ievirsh.api.yaml.YamlDocument doc = org.ievirsh.api.yaml.SafeYaml.parse("vm.json",
                    JSON.writeValueAsBytes(vm)).orThrow();
            assertEquals(List.of(), schema.check(doc), vm.toString());
        }
    }

    @Test
    void theMetricsOfTheContractAreThere() throws IOException {
        for (String metric : List.of("ievirsh_vms", "ievirsh_user_vms", "ievirsh_user_quota_vms",
                "ievirsh_reconcile_total", "ievirsh_reconcile_duration_seconds_bucket", "ievirsh_workqueue_depth",
                "ievirsh_blade_up", "ievirsh_blade_vcpus", "ievirsh_blade_vcpus_allocated", "ievirsh_blade_memory_bytes",
                "ievirsh_blade_memory_allocated_bytes", "ievirsh_spec_errors", "ievirsh_vm_start_seconds_bucket",
                "ievirsh_deletion_guard_tripped", "ievirsh_vm_cpu_seconds_total", "ievirsh_vm_memory_bytes",
                "jvm_memory_used_bytes", "process_cpu_usage")) {
            assertTrue(!query(metric).isEmpty(), metric);
        }
        assertEquals("1", query("ievirsh_vms{phase=\"Running\",blade=\"local\"}").get(0).path("value").get(1).asText());
        assertEquals("1", query("ievirsh_images_rejected{reason=\"BackingFile\"}").get(0).path("value").get(1).asText());
        assertEquals("1", query("ievirsh_spec_errors{reason=\"yaml\"}").get(0).path("value").get(1).asText());
    }
}
