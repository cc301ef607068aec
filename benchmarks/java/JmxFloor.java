import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.AttributeList;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The floor of a JMX scrape: a bare client that reads the same attributes as the adapter over
 * one persistent connection, one getAttributes call per MBean, and does nothing else with them.
 *
 * Usage: java JmxFloor SERVICE_URL [EXCLUDED_PATTERN]. Connects, lists every MBean (but those
 * the pattern names) and its readable attributes
 * once, prints "READY <beans> <attributes>", then for each line on stdin reads every bean once
 * and prints the nanoseconds that took and the number of attribute values read.
 */
public final class JmxFloor {
    private static final java.util.Set<String> SKIPPED_RUNTIME =
            java.util.Set.of("SystemProperties", "ClassPath", "BootClassPath", "LibraryPath");

    public static void main(String[] args) throws Exception {
        JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(args[0]), null);
        MBeanServerConnection connection = connector.getMBeanServerConnection();
        Map<ObjectName, String[]> beans = new LinkedHashMap<>();
        int attributes = 0;
        java.util.Set<ObjectName> names = connection.queryNames(null, null);
        if (args.length > 1) {
            names.removeAll(connection.queryNames(new ObjectName(args[1]), null));
        }
        for (ObjectName name : names) {
            String canonical = name.getCanonicalName();
            if (canonical.equals("jdk.management.jfr:type=FlightRecorder")) {
                continue; // jmx_exporter and the adapter leave these out too
            }
            List<String> readable = new ArrayList<>();
            for (MBeanAttributeInfo info : connection.getMBeanInfo(name).getAttributes()) {
                if (info.isReadable() && !(canonical.equals("java.lang:type=Runtime")
                        && SKIPPED_RUNTIME.contains(info.getName()))) {
                    readable.add(info.getName());
                }
            }
            beans.put(name, readable.toArray(new String[0]));
            attributes += readable.size();
        }
        System.out.println("READY " + beans.size() + " " + attributes);
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        while (in.readLine() != null) {
            long start = System.nanoTime();
            int values = 0;
            for (Map.Entry<ObjectName, String[]> bean : beans.entrySet()) {
                try {
                    AttributeList list = connection.getAttributes(bean.getKey(), bean.getValue());
                    values += list.size();
                } catch (Exception e) {
                    // an attribute this JVM cannot unmarshal: the adapter skips it too
                }
            }
            System.out.println((System.nanoTime() - start) + " " + values);
            System.out.flush();
        }
        connector.close();
    }
}
