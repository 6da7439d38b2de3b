namespace Orleans.Rooms.Hosting;

/// <summary>
/// Whether a silo on Redis clustering uses Orleans' Kubernetes hosting (<c>UseKubernetesHosting</c>): the pod's name
/// as the silo's name, its address as the advertised one, and a silo whose pod is deleted declared dead at once
/// instead of after missed probes. Needs the pod's <c>POD_NAME</c>, <c>POD_NAMESPACE</c> and <c>POD_IP</c> (the
/// downward API) and a service account that may read, watch and patch pods (deploy/kubernetes/silo.yaml).
/// </summary>
public enum KubernetesHosting
{
    /// <summary>On when the process runs in a Kubernetes pod (<c>KUBERNETES_SERVICE_HOST</c>) that names itself (<c>POD_NAME</c>).</summary>
    Auto,

    /// <summary>Always on; the silo fails to start outside a pod.</summary>
    Enabled,

    /// <summary>Off, in a pod too (no access to the Kubernetes API needed).</summary>
    Disabled,
}
