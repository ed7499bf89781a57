# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# What the probe, the executor and provision.ps1 share (_target_scripts.py places it after their param block).
# Windows PowerShell 5.1; nothing here depends on the host's language: integration services are
# told apart by the GUID in their Id, states by their enum names, never by display text.

# The language-neutral part of Get-VMIntegrationService's Id ("Microsoft:<VM Id>\<GUID>"). The
# Name is localised (German hosts call Heartbeat "Takt"): hashicorp/vagrant
# plugins/providers/hyperv/driver.rb INTEGRATION_SERVICES_MAP and hashicorp/packer-plugin-hyperv
# use these GUIDs for the same reason.
$integrationServiceIds = [ordered]@{
    'Heartbeat' = '84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47'
    'Shutdown' = '9F8233AC-BE49-4C79-8EE3-E7E1985B2077'
    'Time Synchronization' = '2497F4DE-E9FA-4204-80E4-4B75C46419C0'
    'Key-Value Pair Exchange' = '2A34B1C2-FD73-4043-8A5B-DD2159BC743F'
    'VSS' = '5CED1297-4598-4915-A5FC-AD21BB4D02A4'
    'Guest Service Interface' = '6C09BB55-D683-4DA0-8931-C9BF705F6480'
}

function Get-IntegrationServiceKey($Service) {
    # The GUID after the last backslash of the service's Id, upper case ($null when there is none).
    $id = [string]$Service.Id
    $at = $id.LastIndexOf('\')
    if ($at -lt 0) { return $null }
    $id.Substring($at + 1).ToUpperInvariant()
}

function Get-IntegrationServiceName($Service) {
    # The English name the wire protocol uses (section 2), whatever the host's language; a service
    # this table does not know keeps its own (perhaps localised) name.
    $key = Get-IntegrationServiceKey $Service
    foreach ($entry in $integrationServiceIds.GetEnumerator()) {
        if ($entry.Value -eq $key) { return [string]$entry.Key }
    }
    [string]$Service.Name
}

function Get-IntegrationService($VM, [string]$Name) {
    # One integration service of a VM by its English name, found by GUID ($null when it has none).
    $key = $integrationServiceIds[$Name]
    @(Hyper-V\Get-VMIntegrationService -VM $VM | Where-Object { (Get-IntegrationServiceKey $_) -eq $key })[0]
}

function Get-ExactVM([string]$Name) {
    # -Name/-VMName are wildcard patterns in Hyper-V: compare names exactly instead.
    # Module-qualified: VMware PowerCLI also exports Get-VM, and may be imported first.
    @(Hyper-V\Get-VM | Where-Object { $_.Name -eq $Name })
}

function ConvertTo-Splat($Object) {
    $table = @{}
    if ($null -ne $Object) {
        foreach ($property in $Object.PSObject.Properties) { $table[$property.Name] = $property.Value }
    }
    $table
}

function Resolve-ExactVM([string]$Name) {
    $found = @(Get-ExactVM $Name)
    if ($found.Count -eq 0) { throw "No virtual machine named '$Name' exists on this host." }
    if ($found.Count -gt 1) { throw "More than one virtual machine is named '$Name' on this host." }
    $found[0]
}

function Get-RestartMarkFolder {
    Join-Path $env:ProgramData 'hyperv.nested\restart-marks'
}

function Get-RestartMarkPath($VM) {
    # Restart marks (wire-protocol.md section 3.1): one file per VM, named after its Id, never its name.
    Join-Path (Get-RestartMarkFolder) ('{0}.json' -f ([string]$VM.Id).ToLowerInvariant())
}
