# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The executor (docs/internals/wire-protocol.md section 3), for Windows PowerShell 5.1.
param($Parameters)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# The allow-lists, each cmdlet with the module it must come from: VMware PowerCLI exports Get-VM,
# Start-VM and Stop-VM too, and a module imported later would win an unqualified name.
$hostCmdlets = @{
    'Set-VMProcessor' = 'Hyper-V'; 'Set-VMMemory' = 'Hyper-V'; 'Set-VMNetworkAdapter' = 'Hyper-V'
    'Connect-VMNetworkAdapter' = 'Hyper-V'; 'Update-VMVersion' = 'Hyper-V'; 'Remove-VMSavedState' = 'Hyper-V'
    'Start-VM' = 'Hyper-V'; 'Stop-VM' = 'Hyper-V'; 'New-VMSwitch' = 'Hyper-V'; 'Remove-VMSwitch' = 'Hyper-V'
    'Set-VMSecurity' = 'Hyper-V'; 'New-NetNat' = 'NetNat'; 'Remove-NetNat' = 'NetNat'
    'Add-NetNatStaticMapping' = 'NetNat'; 'Remove-NetNatStaticMapping' = 'NetNat'
    'New-NetIPAddress' = 'NetTCPIP'; 'Remove-NetIPAddress' = 'NetTCPIP'
    'New-NetFirewallRule' = 'NetSecurity'; 'Remove-NetFirewallRule' = 'NetSecurity'
}
$guestCmdlets = @{
    'New-NetIPAddress' = 'NetTCPIP'; 'Remove-NetIPAddress' = 'NetTCPIP'; 'Set-NetIPInterface' = 'NetTCPIP'
    'Remove-NetRoute' = 'NetTCPIP'; 'Set-DnsClientServerAddress' = 'DnsClient'
}
# The allowed cmdlets that may ask for confirmation (they have -Confirm): under -NonInteractive a
# prompt is an error, so each runs with -Confirm:$false (cmdlets.json; checked by a unit test).
$confirmingCmdlets = @(
    'Set-VMProcessor', 'Set-VMMemory', 'Set-VMNetworkAdapter', 'Connect-VMNetworkAdapter', 'Update-VMVersion',
    'Remove-VMSavedState', 'Start-VM', 'Stop-VM', 'New-VMSwitch', 'Remove-VMSwitch', 'Set-VMSecurity',
    'New-NetNat', 'Remove-NetNat', 'Add-NetNatStaticMapping', 'Remove-NetNatStaticMapping',
    'New-NetIPAddress', 'Remove-NetIPAddress', 'New-NetFirewallRule', 'Remove-NetFirewallRule',
    'Set-NetIPInterface', 'Remove-NetRoute', 'Set-DnsClientServerAddress'
)

# Every stop this call issued (wire-protocol.md section 3), waited for or not: VM name -> its
# Stop-VM -AsJob job ($null for a turn-off, done at once) and when its own timeout_seconds run out.
# A guest's shutdown, once asked, goes on after any timeout (Stop-VM -Force gives it five minutes):
# wait_vm and ensure_running of this same call read the table, and no restart mark is removed
# while a stop in it has not been seen to end.
$script:stops = @{}

function Write-RestartMark($VM) {
    # Any failure throws: the caller then fails the operation before it stops the VM.
    $path = Get-RestartMarkPath $VM
    $folder = Get-RestartMarkFolder
    if (-not [System.IO.Directory]::Exists($folder)) {
        # Files under ProgramData belong to whoever wrote them: let every member of Hyper-V
        # Administrators (S-1-5-32-578) remove the marks another member's run left.
        $security = New-Object System.Security.AccessControl.DirectorySecurity
        $members = New-Object System.Security.Principal.SecurityIdentifier('S-1-5-32-578')
        $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
        $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($members, 'Modify', $inherit, 'None', 'Allow')
        $security.AddAccessRule($rule)
        $null = [System.IO.Directory]::CreateDirectory($folder, $security)
    }
    $mark = [ordered]@{
        vm_id = ([string]$VM.Id).ToLowerInvariant()
        vm_name = [string]$VM.Name
        stopped_at = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [Globalization.CultureInfo]::InvariantCulture)
        stopped_by = 'hyperv.nested.win_nested_vm'
    }
    Set-Content -LiteralPath $path -Value (ConvertTo-Json -InputObject $mark -Compress) -Encoding UTF8 -ErrorAction Stop
}

function Remove-RestartMark($VM) {
    # Best effort: the VM runs, so a mark left behind is stale and the next run clears it.
    $path = Get-RestartMarkPath $VM
    if (Test-Path -LiteralPath $path -PathType Leaf) {
        Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    }
}

function Invoke-CmdletOperation($Operation, $Allowed) {
    $cmdlet = [string]$Operation.cmdlet
    if (-not $Allowed.ContainsKey($cmdlet)) {
        throw "The cmdlet '$cmdlet' is not in the hyperv.nested executor's allow-list."
    }
    $splat = ConvertTo-Splat $Operation.parameters
    if ($Operation.vm) {
        $vm = Resolve-ExactVM $Operation.vm
        if ($Operation.adapter_id) {
            $adapter = @(Hyper-V\Get-VMNetworkAdapter -VM $vm | Where-Object { $_.Id -eq $Operation.adapter_id })
            if ($adapter.Count -ne 1) { throw "The VM '$($Operation.vm)' has no network adapter with id '$($Operation.adapter_id)'." }
            $splat['VMNetworkAdapter'] = $adapter[0]
        }
        else {
            $splat['VM'] = $vm
        }
    }
    if ($Operation.switch_adapter) {
        if ($splat.ContainsKey('InterfaceAlias') -or $splat.ContainsKey('InterfaceIndex')) {
            throw 'An operation with switch_adapter must not carry InterfaceAlias or InterfaceIndex.'
        }
        $splat['InterfaceIndex'] = Wait-SwitchAdapter ([string]$Operation.switch_adapter)
    }
    if ($confirmingCmdlets -contains $cmdlet) { $splat['Confirm'] = $false }
    $null = & ('{0}\{1}' -f $Allowed[$cmdlet], $cmdlet) @splat -ErrorAction Stop
}

function Wait-SwitchAdapter([string]$Name) {
    # The interface index of a switch's adapter in the management OS, found through the switch
    # itself (its management-OS adapter's MAC address), never by the "vEthernet (<name>)" alias,
    # which Windows suffixes with " 2" when the name is taken. Right after New-VMSwitch the
    # adapter may not exist or be up yet: wait for it (InterfaceOperationalStatus 1 is Up,
    # MSFT_NetAdapter; the Status text is for display).
    $switches = @(Hyper-V\Get-VMSwitch | Where-Object { $_.Name -eq $Name })
    if ($switches.Count -ne 1) { throw "There is no single virtual switch named '$Name' on this host (found $($switches.Count))." }
    $deadline = (Get-Date).AddSeconds(30)
    while ($true) {
        $vnic = @(Hyper-V\Get-VMNetworkAdapter -ManagementOS | Where-Object { $_.SwitchId -eq $switches[0].Id })
        if ($vnic.Count -ge 1) {
            $mac = ([string]$vnic[0].MacAddress) -replace '[^0-9A-Fa-f]', ''
            $adapter = @(NetAdapter\Get-NetAdapter | Where-Object { (([string]$_.MacAddress) -replace '[^0-9A-Fa-f]', '') -eq $mac })
            if ($adapter.Count -eq 1 -and [int]$adapter[0].InterfaceOperationalStatus -eq 1) { return [int]$adapter[0].ifIndex }
        }
        if ((Get-Date) -gt $deadline) { throw "The adapter of the virtual switch '$Name' did not come up within 30 seconds." }
        Start-Sleep -Milliseconds 500
    }
}

function Get-WaitOption($Operation) {
    # "wait" is optional and defaults to true; a value that is present must be a JSON boolean.
    if ($null -eq $Operation.wait) { return $true }
    if ($Operation.wait -isnot [bool]) { throw 'wait must be true or false.' }
    $Operation.wait
}

function Test-JobEnded($Job) {
    $null -ne $Job -and @('Completed', 'Failed', 'Stopped') -contains [string]$Job.State
}

function Get-JobFailure($Job) {
    # Hyper-V cmdlets report most failures as non-terminating errors: an -AsJob Stop-VM that the
    # guest or the host refused ends 'Completed' with error records, not 'Failed'.
    $messages = @()
    $reason = $Job.ChildJobs[0].JobStateInfo.Reason
    if ($reason) { $messages += $reason.Message }
    $jobErrors = $null
    $null = Receive-Job -Job $Job -Keep -ErrorAction SilentlyContinue -ErrorVariable jobErrors
    foreach ($record in @($jobErrors)) { if ($record) { $messages += [string]$record.Exception.Message } }
    if ($messages.Count -eq 0) { $messages += "the job ended '$([string]$Job.State)' with the virtual machine still on" }
    ($messages | Select-Object -Unique) -join ' '
}

function Wait-VMState([string]$Name, [string]$State, [int]$TimeoutSeconds, $Job) {
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while ($true) {
        $vm = Resolve-ExactVM $Name
        $heartbeatReady = $true
        if ($State -eq 'Running') {
            $heartbeat = Get-IntegrationService $vm 'Heartbeat'
            if ($heartbeat -and $heartbeat.Enabled) { $heartbeatReady = [string]$vm.Heartbeat -like 'Ok*' }  # an enum name, not text
        }
        if ([string]$vm.State -eq $State -and $heartbeatReady) { return }
        if (Test-JobEnded $Job) {
            # The stop ended: the VM is Off now (read again: it may have just turned off), or the stop failed.
            $vm = Resolve-ExactVM $Name
            if ([string]$vm.State -eq 'Off') { return }
            throw "Stop-VM failed for '$Name': $(Get-JobFailure $Job)"
        }
        if ((Get-Date) -gt $deadline) {
            # The same sentences as the simulator's (tests/simulator/hvsim/powershell/executor.py).
            if ($State -eq 'Off') { throw "VM '$Name' did not shut down within $TimeoutSeconds seconds (it is $([string]$vm.State))." }
            throw "VM '$Name' did not report Running with a healthy heartbeat within $TimeoutSeconds seconds (it is $([string]$vm.State))."
        }
        Start-Sleep -Milliseconds 500
    }
}

function Invoke-Operation($Operation) {
    switch ($Operation.kind) {
        'cmdlet' { Invoke-CmdletOperation $Operation $hostCmdlets }
        'stop_vm' {
            $wait = Get-WaitOption $Operation
            $vm = Resolve-ExactVM $Operation.vm
            $markForRestart = $false
            if ($null -ne $Operation.mark_for_restart) {
                if ($Operation.mark_for_restart -isnot [bool]) { throw 'mark_for_restart must be true or false.' }
                $markForRestart = $Operation.mark_for_restart
            }
            if ($markForRestart -and [string]$vm.State -eq 'Running') {
                # Written before Stop-VM: when it cannot be written, the VM is not stopped.
                Write-RestartMark $vm
            }
            $job = $null
            if ($Operation.mode -eq 'turn_off') {
                Hyper-V\Stop-VM -VM $vm -TurnOff -Force -Confirm:$false
            }
            else {
                $job = Hyper-V\Stop-VM -VM $vm -Force -AsJob -Confirm:$false
            }
            # Recorded before any wait: a stop that outlives its timeout is still this call's stop.
            $script:stops[[string]$vm.Name] = [ordered]@{ job = $job; deadline = (Get-Date).AddSeconds([int]$Operation.timeout_seconds) }
            if ($wait -and $null -ne $job) {
                Wait-VMState $Operation.vm 'Off' $Operation.timeout_seconds $job
            }
        }
        'start_vm' {
            $wait = Get-WaitOption $Operation
            $vm = Resolve-ExactVM $Operation.vm
            Hyper-V\Start-VM -VM $vm -Confirm:$false
            if ($wait) {
                Wait-VMState $Operation.vm 'Running' $Operation.timeout_seconds $null
            }
            # Start-VM returned: the VM runs (with wait false, its guest may still be booting).
            Remove-RestartMark $vm
        }
        'wait_vm' {
            # Waits for an earlier stop_vm/start_vm with wait false; changes nothing itself.
            $vm = Resolve-ExactVM $Operation.vm
            $name = [string]$vm.Name
            $state = $Operation.state
            if ($state -is [string] -and $state -ceq 'Off') {
                # The stop's job (if any) makes a failed Stop-VM fail at once with its reason.
                $job = $null
                if ($script:stops.ContainsKey($name)) { $job = $script:stops[$name].job }
                Wait-VMState $Operation.vm 'Off' $Operation.timeout_seconds $job
            }
            elseif ($state -is [string] -and $state -ceq 'Running') {
                Wait-VMState $Operation.vm 'Running' $Operation.timeout_seconds $null
            }
            else {
                throw "wait_vm cannot wait for the state '$state': it must be 'Off' or 'Running'."
            }
        }
        'ensure_running' {
            $vm = Resolve-ExactVM $Operation.vm
            $name = [string]$vm.Name
            $stop = $null
            if ($script:stops.ContainsKey($name)) { $stop = $script:stops[$name] }
            if ($null -ne $stop -and $null -ne $stop.job -and -not (Test-JobEnded $stop.job)) {
                # A stop this call issued may still be shutting the VM down: let it end first, so
                # that the VM is not found running now and left off a moment later. A guest that
                # ignores the shutdown has had the stop's own timeout: no second one.
                $left = [int][Math]::Ceiling(($stop.deadline - (Get-Date)).TotalSeconds)
                $limit = [Math]::Min([int]$Operation.timeout_seconds, $left)
                if ($limit -gt 0) { $null = Wait-Job -Job $stop.job -Timeout $limit }
                $vm = Resolve-ExactVM $Operation.vm
                if ([string]$vm.State -ne 'Off' -and -not (Test-JobEnded $stop.job)) {
                    # Still running, and the shutdown may yet power it off: keep the mark.
                    throw "VM '$name' still runs, but the shutdown this run asked of it has not ended: it may still power off. Its restart mark is kept, so that a later run starts it again if it does."
                }
            }
            if ([string]$vm.State -ne 'Running') {
                Hyper-V\Start-VM -VM $vm -Confirm:$false
                Wait-VMState $Operation.vm 'Running' $Operation.timeout_seconds $null
            }
            Remove-RestartMark $vm
        }
        'clear_restart_mark' {
            $vm = Resolve-ExactVM $Operation.vm
            Remove-RestartMark $vm
            # Clearing is this operation's only job: a mark that stays would restart the VM on a later run.
            if (Test-Path -LiteralPath (Get-RestartMarkPath $vm) -PathType Leaf) {
                throw "The restart mark of the VM '$($Operation.vm)' ($(Get-RestartMarkPath $vm)) could not be removed."
            }
        }
        'guest' {
            $vm = Resolve-ExactVM $Operation.vm
            # Character by character: passed to ConvertTo-SecureString -String, the password would be
            # in the parameter bindings that module logging records (event 4103).
            $secure = New-Object System.Security.SecureString
            foreach ($character in ([string]$Operation.password).ToCharArray()) { $secure.AppendChar($character) }
            $secure.MakeReadOnly()
            $credential = New-Object System.Management.Automation.PSCredential([string]$Operation.username, $secure)
            Invoke-Command -VMId $vm.Id -Credential $credential -ErrorAction Stop -ScriptBlock {
                param($Operations, $Allowed, $Confirming)
                $ErrorActionPreference = 'Stop'
                foreach ($nested in @($Operations)) {
                    $cmdlet = [string]$nested.cmdlet
                    if (-not $Allowed.ContainsKey($cmdlet)) {
                        throw "The cmdlet '$cmdlet' is not in the hyperv.nested guest allow-list."
                    }
                    $splat = @{}
                    foreach ($property in $nested.parameters.PSObject.Properties) { $splat[$property.Name] = $property.Value }
                    if ($Confirming -contains $cmdlet) { $splat['Confirm'] = $false }
                    $null = & ('{0}\{1}' -f $Allowed[$cmdlet], $cmdlet) @splat -ErrorAction Stop
                }
            } -ArgumentList @($Operation.operations), $guestCmdlets, $confirmingCmdlets
        }
        default { throw "Unknown operation kind '$($Operation.kind)'." }
    }
}

function Invoke-OperationList($Operations) {
    $report = @()
    $failedIndex = $null
    $index = 0
    foreach ($operation in @($Operations)) {
        $entry = [ordered]@{ index = $index; status = 'not_run'; message = $null; duration_ms = 0 }
        if ($null -eq $failedIndex) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            try {
                Invoke-Operation $operation
                $entry.status = 'ok'
            }
            catch {
                $entry.status = 'failed'
                $entry.message = $_.Exception.Message
                $failedIndex = $index
            }
            $entry.duration_ms = [int]$watch.ElapsedMilliseconds
        }
        $report += $entry
        $index++
    }
    , @($report, $failedIndex)
}

$main = Invoke-OperationList $Parameters.operations
$restore = @()
if ($null -ne $main[1] -and $Parameters.on_failure) {
    $restore = (Invoke-OperationList $Parameters.on_failure)[0]
}

$names = @()
foreach ($operation in @($Parameters.operations) + @($Parameters.on_failure)) {
    if ($operation -and $operation.vm -and $operation.kind -ne 'guest') { $names += [string]$operation.vm }
}
$states = [ordered]@{}
foreach ($name in ($names | Select-Object -Unique)) {
    $vm = @(Get-ExactVM $name)
    if ($vm.Count -eq 1) { $states[$name] = [string]$vm[0].State }
}

[ordered]@{
    ok = $true
    result = [ordered]@{
        operations = @($main[0])
        failed_index = $main[1]
        on_failure = @($restore)
        vm_states = $states
    }
}
